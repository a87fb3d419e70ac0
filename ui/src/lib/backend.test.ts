import { beforeEach, describe, expect, it, vi } from 'vitest';
import { tauriBackend } from './backend';

// Hoisted above the imports: the backend calls this instead of the Tauri IPC.
const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));
const listen = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/event', () => ({ listen }));

describe('the Tauri backend', () => {
  // A block body: a function returned from beforeEach would be run as its teardown.
  beforeEach(() => {
    invoke.mockReset();
    listen.mockReset();
  });

  it("hears the shell's session-ended event", async () => {
    const unlisten = vi.fn();
    listen.mockResolvedValue(unlisten);
    const handler = vi.fn();
    expect(await tauriBackend.onSessionEnded(handler)).toBe(unlisten);
    expect(listen).toHaveBeenCalledWith('session-ended', expect.any(Function));
    listen.mock.calls[0]![1]({ event: 'session-ended', id: 1, payload: null });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("sends an upload's bytes as the raw body and the record and name as encoded headers", async () => {
    invoke.mockResolvedValue({ id: 'file-1' });
    const bytes = new Uint8Array([1, 2, 3]);
    await tauriBackend.uploadFile('user 1', 'Angebot März/2026.pdf', bytes);
    expect(invoke).toHaveBeenCalledWith('upload_file', bytes, {
      headers: { 'person-id': 'user%201', 'file-name': 'Angebot%20M%C3%A4rz%2F2026.pdf' },
    });
  });

  it('passes the other file, ticket and sign-in commands their arguments by name', async () => {
    invoke.mockResolvedValue(null);
    await tauriBackend.listFiles('user-1');
    await tauriBackend.saveFile('file-1', 'contract.pdf');
    await tauriBackend.showSavedFile('/home/dana/Downloads/contract.pdf');
    await tauriBackend.deleteFile('file-1');
    await tauriBackend.listTickets('user-1', '-opened');
    await tauriBackend.listLogins('agent-2');
    await tauriBackend.openTicket('https://desk.example/tickets/1');
    expect(invoke.mock.calls.map((call) => call.slice(0, 2))).toEqual([
      ['list_files', { id: 'user-1' }],
      ['save_file', { fileId: 'file-1', name: 'contract.pdf' }],
      ['show_saved_file', { path: '/home/dana/Downloads/contract.pdf' }],
      ['delete_file', { fileId: 'file-1' }],
      ['list_tickets', { id: 'user-1', sort: '-opened' }],
      ['list_logins', { id: 'agent-2' }],
      ['open_ticket', { url: 'https://desk.example/tickets/1' }],
    ]);
  });

  it('turns a failure into an IpcError', async () => {
    invoke.mockRejectedValue('the IPC broke');
    await expect(tauriBackend.listFiles('user-1')).rejects.toEqual({
      code: 'internal',
      message: 'the IPC broke',
      field: null,
    });
  });
});
