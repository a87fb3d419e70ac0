import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { change, fakeBackend, personFile, profile, ticket, ticketsOf, type FakeOptions } from '../../test/fake-backend';
import People from './People.svelte';
import { fileSize, fileType } from './people';

function setup(me = profile(), options: FakeOptions = {}) {
  const fake = fakeBackend(me, options);
  const onsessionended = vi.fn();
  const view = render(People, { backend: fake.backend, outbox: fake.connectOutbox(), me: me.id, admin: options.admin ?? false, onsessionended });
  return { ...fake, onsessionended, view, user: userEvent.setup() };
}

const record = () => screen.getByTestId('person-record');
const fileInput = () => screen.getByTestId('file-input') as HTMLInputElement;
const fileRows = () => within(record()).getByTestId('record-files').querySelectorAll('li');

/** A file of `size` bytes without building one: only its size is read before it is refused. */
function sized(name: string, size: number): File {
  const file = new File(['x'], name);
  Object.defineProperty(file, 'size', { value: size });
  return file;
}

async function openAda(options: FakeOptions = {}) {
  const fake = setup(profile(), options);
  await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
  await within(record()).findByTestId('record-files');
  return fake;
}

async function openColleague(fake: ReturnType<typeof setup>, name: string) {
  await waitFor(() => expect(screen.getByRole('option', { name: new RegExp(name) })).toBeTruthy());
  await fake.user.click(screen.getByRole('option', { name: new RegExp(name) }));
  await waitFor(() => expect(within(record()).getByRole('heading', { name })).toBeTruthy());
}

describe("a customer's files", () => {
  afterEach(() => setLanguage('en'));

  it('lists each file with its type, size, who added it and when', async () => {
    await openAda();
    const row = fileRows()[0]!;
    expect(row.textContent).toContain('contract.pdf');
    expect(row.textContent).toContain('PDF · 245 kB · added by Sam Senior');
    expect(row.querySelector('.meta')?.textContent).toContain('2026');
    expect(within(record()).getByText('Any type, up to 10 MB each.')).toBeTruthy();
  });

  it('opens the file dialog from the Add file button, also from the keyboard', async () => {
    const { user } = await openAda();
    const click = vi.spyOn(fileInput(), 'click');
    within(record()).getByRole('button', { name: 'Add file' }).focus();
    await user.keyboard('{Enter}');
    expect(click).toHaveBeenCalledTimes(1);
    // The input is out of sight and out of the tab order: the button is the one control.
    expect(fileInput().hidden).toBe(true);
    expect(fileInput().multiple).toBe(true);
  });

  it('uploads a picked file and shows it in the list and the history', async () => {
    const { user, backend } = await openAda();
    // What the server made of the bytes, and its history entry for them.
    backend.uploadFile.mockResolvedValueOnce(
      personFile({
        id: 'file-new-1',
        name: 'notes.txt',
        content_type: 'text/plain; charset=utf-8',
        size: 5,
        uploaded_by: 'agent-1',
        uploaded_by_name: 'Dana Demo',
        uploaded_at: '2026-11-24T10:00:00Z',
      }),
    );
    backend.listActivity.mockResolvedValue({ activity: [{ kind: 'change', ...change('file', null, 'notes.txt') }] });
    await user.upload(fileInput(), new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    await waitFor(() => expect(fileRows()).toHaveLength(2));
    expect(backend.uploadFile).toHaveBeenCalledWith('user-1', 'notes.txt', new Uint8Array([104, 101, 108, 108, 111]));
    expect(backend.listActivity).toHaveBeenLastCalledWith('user-1');
    const added = fileRows()[0]!;
    expect(added.textContent).toContain('notes.txt');
    expect(added.textContent).toContain('Text · 5 bytes · added by Dana Demo');
    expect(within(record()).getByText('✓ notes.txt added.').closest('[role="status"]')).toBeTruthy();
    // The history is fetched again and says it in words.
    await waitFor(() =>
      expect(within(record()).getByTestId('record-activity').textContent).toContain('File added: notes.txt'),
    );
  });

  it('shows "Uploading…" while a file is sent', async () => {
    const { user, backend } = await openAda();
    let finish: () => void = () => {};
    const original = backend.uploadFile.getMockImplementation()!;
    backend.uploadFile.mockImplementationOnce(async (...args) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return original(...args);
    });
    await user.upload(fileInput(), new File(['hello'], 'notes.txt'));
    await waitFor(() => expect(within(record()).getByText('Uploading notes.txt…')).toBeTruthy());
    expect((within(record()).getByRole('button', { name: 'Add file' }) as HTMLButtonElement).disabled).toBe(true);
    // The bytes are read before the call: finish only once it has been made.
    await waitFor(() => expect(backend.uploadFile).toHaveBeenCalled());
    finish();
    await waitFor(() => expect(within(record()).queryByText('Uploading notes.txt…')).toBeNull());
    expect(fileRows()).toHaveLength(2);
  });

  it('refuses a file over the limit by name without sending it, and sends the others', async () => {
    const { user, backend } = await openAda();
    await user.upload(fileInput(), [sized('backup.zip', 12_300_000), new File(['ok'], 'small.txt')]);
    const problem = await within(record()).findByTestId('files-error');
    expect(problem.textContent).toBe('backup.zip is 12.3 MB, but a file can be at most 10 MB. It was not added.');
    await waitFor(() => expect(fileRows()).toHaveLength(2));
    expect(backend.uploadFile).toHaveBeenCalledTimes(1);
    expect(backend.uploadFile).toHaveBeenCalledWith('user-1', 'small.txt', expect.any(Uint8Array));
    expect(within(record()).getByTestId('record-files').textContent).not.toContain('backup.zip');
  });

  it("says why the server refused a file, naming it", async () => {
    const { user, backend } = await openAda();
    backend.uploadFile.mockRejectedValueOnce({ code: 'conflict', message: 'too many', field: 'file' });
    await user.upload(fileInput(), new File(['hi'], 'one-too-many.txt'));
    expect((await within(record()).findByTestId('files-error')).textContent).toBe(
      'one-too-many.txt was not added: this record holds as many files as it may. Remove one first.',
    );
    expect(fileRows()).toHaveLength(1);
  });

  it('saves a copy to Downloads and shows where, with a way to see it there', async () => {
    const { user, backend } = await openAda();
    await user.click(within(record()).getByRole('button', { name: 'Save contract.pdf to Downloads' }));
    expect(backend.saveFile).toHaveBeenCalledWith('file-1', 'contract.pdf');
    expect((await within(record()).findByTestId('file-saved')).textContent).toBe(
      '✓ Saved to /home/dana/Downloads/contract.pdf',
    );
    await user.click(within(record()).getByRole('button', { name: 'Show in folder' }));
    expect(backend.showSavedFile).toHaveBeenCalledWith('/home/dana/Downloads/contract.pdf');
  });

  it('says so when the file cannot be saved on this computer', async () => {
    const { user, backend } = await openAda();
    backend.saveFile.mockRejectedValueOnce({ code: 'local_file', message: 'There is no downloads folder', field: null });
    await user.click(within(record()).getByRole('button', { name: 'Save contract.pdf to Downloads' }));
    expect((await within(record()).findByTestId('files-error')).textContent).toBe(
      'Something went wrong on this computer: There is no downloads folder',
    );
    expect(within(record()).queryByTestId('file-saved')).toBeNull();
  });

  it('removes a file the agent added after asking, and shows the change log the server then answers', async () => {
    const { user, backend, files } = await openAda();
    backend.listChanges.mockResolvedValue({
      changes: [
        change('file', 'notes.txt', null, '2026-11-24T10:01:00Z'),
        change('file', null, 'notes.txt', '2026-11-24T10:00:00Z'),
      ],
    });
    await user.upload(fileInput(), new File(['hello'], 'notes.txt'));
    await waitFor(() => expect(fileRows()).toHaveLength(2));

    await user.click(within(record()).getByRole('button', { name: 'Remove notes.txt' }));
    let dialog = await screen.findByRole('dialog', { name: 'Remove notes.txt?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(backend.deleteFile).not.toHaveBeenCalled();
    expect(fileRows()).toHaveLength(2);
    expect(document.activeElement).toBe(within(record()).getByRole('button', { name: 'Remove notes.txt' }));

    await user.click(within(record()).getByRole('button', { name: 'Remove notes.txt' }));
    dialog = await screen.findByRole('dialog', { name: 'Remove notes.txt?' });
    await user.click(within(dialog).getByRole('button', { name: 'Remove file' }));
    await waitFor(() => expect(fileRows()).toHaveLength(1));
    expect(backend.deleteFile).toHaveBeenCalledWith('file-new-1');
    expect(files().map((file) => file.name)).toEqual(['contract.pdf']);
    expect(screen.queryByRole('dialog')).toBeNull();
    // Its button is gone with it: the focus goes to Add file rather than nowhere.
    expect(document.activeElement).toBe(within(record()).getByRole('button', { name: 'Add file' }));

    await user.click(within(record()).getByRole('button', { name: 'Change log' }));
    const log = await within(record()).findByTestId('record-changes');
    await waitFor(() => expect(log.textContent).toContain('File removed: notes.txt'));
    expect(backend.listChanges).toHaveBeenLastCalledWith('user-1');
    const rows = within(log).getAllByRole('row');
    expect(rows[1]!.textContent).toContain('File');
    expect(rows[2]!.textContent).toContain('File added: notes.txt');
    expect(log.textContent).not.toContain('→');
  });

  it("offers no Remove on a colleague's file, which the server would refuse", async () => {
    const { backend } = await openAda();
    const row = fileRows()[0]!;
    expect(row.textContent).toContain('contract.pdf');
    expect(within(row).queryByRole('button', { name: /Remove/ })).toBeNull();
    expect(within(row).getByRole('button', { name: 'Save contract.pdf to Downloads' })).toBeTruthy();
    expect(backend.deleteFile).not.toHaveBeenCalled();
  });

  it("lets an administrator remove a colleague's file", async () => {
    const { user, backend } = await openAda({ admin: true });
    await user.click(within(fileRows()[0]!).getByRole('button', { name: 'Remove contract.pdf' }));
    const dialog = await screen.findByRole('dialog', { name: 'Remove contract.pdf?' });
    await user.click(within(dialog).getByRole('button', { name: 'Remove file' }));
    await waitFor(() => expect(backend.deleteFile).toHaveBeenCalledWith('file-1'));
    await waitFor(() => expect(within(record()).queryByText('contract.pdf')).toBeNull());
  });

  it('shows the refusal when removing fails on the server', async () => {
    const { user, backend } = await openAda();
    await user.upload(fileInput(), new File(['hello'], 'notes.txt'));
    await waitFor(() => expect(fileRows()).toHaveLength(2));
    backend.deleteFile.mockRejectedValueOnce({ code: 'forbidden', message: 'no', field: null });
    await user.click(within(record()).getByRole('button', { name: 'Remove notes.txt' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Remove file' }));
    expect((await within(record()).findByTestId('files-error')).textContent).toBe(
      'Only the agent who added a file, or an administrator, can remove it.',
    );
    expect(fileRows()).toHaveLength(2);
  });

  it('ends the session when the server no longer accepts it', async () => {
    const { user, backend, onsessionended } = await openAda();
    backend.uploadFile.mockRejectedValueOnce({ code: 'unauthorized', message: 'expired', field: null });
    await user.upload(fileInput(), new File(['hello'], 'notes.txt'));
    await waitFor(() => expect(onsessionended).toHaveBeenCalled());
  });
});

describe('file sizes and types', () => {
  it('are worded in the UI language', () => {
    expect(fileSize(512, 'en')).toBe('512 bytes');
    expect(fileSize(1, 'en')).toBe('1 byte');
    expect(fileSize(512, 'de')).toBe('512 Byte');
    expect(fileSize(245_000, 'en')).toBe('245 kB');
    expect(fileSize(1_234_567, 'de')).toBe('1,2 MB');
    expect(fileType('application/pdf')).toBe('PDF');
    expect(fileType('text/plain; charset=utf-8')).toBe('Text');
    expect(fileType('image/png')).toBe('PNG image');
    expect(fileType('application/octet-stream')).toBe('Unknown type');
    setLanguage('de');
    expect(fileType('image/webp')).toBe('WebP-Bild');
    setLanguage('en');
  });
});

describe("a customer's tickets", () => {
  const ids = () =>
    within(within(record()).getByTestId('record-tickets'))
      .getAllByRole('row')
      .slice(1)
      .map((row) => row.querySelector('td')?.textContent);
  const header = (name: string) => within(record()).getByRole('columnheader', { name });

  it('lists the tickets, newest update first, with the last event in words', async () => {
    const { user, backend } = await openAda();
    await waitFor(() => expect(ids()).toEqual(['1000', '999', '42']));
    expect(backend.listTickets).toHaveBeenCalledWith('user-1', '-updated');
    const rows = within(within(record()).getByTestId('record-tickets')).getAllByRole('row');
    expect(rows[1]!.textContent).toContain('Invoice 1842 charged twice');
    expect(rows[1]!.textContent).toContain('Customer replied');
    // The events column: the last cell before the actions.
    const cells = within(rows[1]!).getAllByRole('cell');
    expect(cells.at(-2)?.textContent).toBe('4');
    // A ticket without an address has nothing to open.
    expect(within(rows[3]!).queryByRole('button')).toBeNull();
    await user.click(within(rows[1]!).getByRole('button', { name: 'Open ticket 1000 in the browser' }));
    expect(backend.openTicket).toHaveBeenCalledWith('https://desk.example/tickets/1000');
  });

  it('asks for the order of a clicked column, turns it round on a second click, and shows the order answered', async () => {
    const { user, backend } = await openAda();
    await waitFor(() => expect(ids()).toEqual(['1000', '999', '42']));
    const [newest, middle, oldest] = ticketsOf()['user-1']!;
    const answer = (sort: 'ticket' | '-ticket' | '-opened', order: (typeof newest)[]) =>
      backend.listTickets.mockResolvedValueOnce({ tickets: order.map((entry) => ticket(entry)), sort });
    expect(header('Last update').getAttribute('aria-sort')).toBe('descending');
    expect(header('Ticket').hasAttribute('aria-sort')).toBe(false);

    answer('ticket', [oldest!, middle!, newest!]);
    await user.click(within(header('Ticket')).getByRole('button'));
    await waitFor(() => expect(ids()).toEqual(['42', '999', '1000']));
    expect(backend.listTickets).toHaveBeenLastCalledWith('user-1', 'ticket');
    expect(header('Ticket').getAttribute('aria-sort')).toBe('ascending');
    expect(header('Last update').hasAttribute('aria-sort')).toBe(false);

    answer('-ticket', [newest!, middle!, oldest!]);
    await user.click(within(header('Ticket')).getByRole('button'));
    await waitFor(() => expect(ids()).toEqual(['1000', '999', '42']));
    expect(backend.listTickets).toHaveBeenLastCalledWith('user-1', '-ticket');
    expect(header('Ticket').getAttribute('aria-sort')).toBe('descending');

    answer('-opened', [middle!, newest!, oldest!]);
    await user.click(within(header('Opened')).getByRole('button'));
    await waitFor(() => expect(ids()).toEqual(['999', '1000', '42']));
    expect(backend.listTickets).toHaveBeenLastCalledWith('user-1', '-opened');
    expect(header('Opened').getAttribute('aria-sort')).toBe('descending');
  });

  it('says when a customer has no tickets', async () => {
    const { user } = await openAda();
    await user.click(screen.getByRole('option', { name: /Byron, Ada/ }));
    expect((await within(record()).findByTestId('tickets-none')).textContent).toBe('No tickets yet.');
  });
});

describe("a customer's activity stream", () => {
  it('shows ticket events with their number, event and title', async () => {
    await openAda();
    const activity = await within(record()).findByTestId('record-activity');
    const entry = [...activity.querySelectorAll('li')].find((li) => li.textContent?.includes('Ticket 1000'));
    expect(entry?.querySelector('.meta')?.textContent).toContain('Ticket 1000: Customer replied');
    expect(entry?.querySelector('.body')?.textContent).toBe('Invoice 1842 charged twice');
  });

  it('words a removed file in the stream', async () => {
    const { backend } = setup();
    backend.listActivity.mockResolvedValue({
      activity: [
        {
          kind: 'change',
          changed_at: '2026-11-24T09:00:00Z',
          actor_id: 'agent-2',
          actor_name: 'Sam Senior',
          field: 'file',
          old_value: 'old-contract.pdf',
          new_value: null,
        },
      ],
    });
    const activity = await screen.findByTestId('record-activity');
    expect(activity.querySelector('.body')?.textContent).toBe('File removed: old-contract.pdf');
    expect(activity.querySelector('.meta')?.textContent).toContain('Sam Senior');
    expect(activity.textContent).not.toContain('→');
  });
});

describe("an agent's tickets and sign-ins", () => {
  /** Waits until both calls for the record have answered, whatever they answered. */
  async function settled(fake: ReturnType<typeof setup>, id: string) {
    await waitFor(() => expect(fake.backend.listTickets).toHaveBeenCalledWith(id, '-updated'));
    await waitFor(() => expect(fake.backend.listLogins).toHaveBeenCalledWith(id));
    await Promise.allSettled([
      ...fake.backend.listTickets.mock.results.map((result) => result.value),
      ...fake.backend.listLogins.mock.results.map((result) => result.value),
    ]);
    await tick();
  }

  it("are not asked for on a colleague's record by an agent who is not an administrator", async () => {
    const fake = setup();
    await openColleague(fake, 'Sam Senior');
    await within(record()).findByTestId('record-teams');
    // (The customer's record opened first asked for that customer's tickets.)
    expect(fake.backend.listTickets).not.toHaveBeenCalledWith('agent-2', expect.anything());
    expect(fake.backend.listLogins).not.toHaveBeenCalled();
    expect(within(record()).queryByTestId('record-tickets-section')).toBeNull();
    expect(within(record()).queryByTestId('record-sign-ins-section')).toBeNull();
  });

  it('are hidden quietly when the server refuses them all the same', async () => {
    // Made an administrator after the app signed in, and back again since, say.
    const fake = setup(profile(), { admin: true });
    fake.backend.listTickets.mockRejectedValue({ code: 'forbidden', message: 'no', field: null });
    fake.backend.listLogins.mockRejectedValue({ code: 'forbidden', message: 'no', field: null });
    fake.backend.listChanges.mockRejectedValue({ code: 'forbidden', message: 'no', field: null });
    await openColleague(fake, 'Sam Senior');
    await settled(fake, 'agent-2');
    expect(within(record()).queryByTestId('record-tickets-section')).toBeNull();
    expect(within(record()).queryByTestId('record-sign-ins-section')).toBeNull();
    expect(within(record()).queryByTestId('record-history')).toBeNull();
    expect(within(record()).queryByRole('alert')).toBeNull();
    expect(fake.onsessionended).not.toHaveBeenCalled();
  });

  it("are shown on the agent's own record", async () => {
    const fake = setup(profile({ id: 'agent-2', display_name: 'Sam Senior' }));
    await openColleague(fake, 'Sam Senior');
    const tickets = await within(record()).findByTestId('record-tickets');
    expect(tickets.textContent).toContain('Refund for order 77');
    expect(tickets.textContent).toContain('Assigned');
    const signIns = await within(record()).findByTestId('record-sign-ins');
    const rows = within(signIns).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]!.textContent).toContain('Succeeded');
    expect(rows[1]!.textContent).toContain('Agent Desk');
    expect(rows[2]!.textContent).toContain('Failed');
    expect(rows[2]!.textContent).toContain('Unknown app');
    expect(rows[2]!.textContent).toContain('203.0.113.66');
    await expectAccessible(fake.view.container);
  });

  it("show the agent's own change log, teams and notifications in words", async () => {
    const fake = setup(profile({ id: 'agent-2', display_name: 'Sam Senior' }));
    fake.backend.listChanges.mockResolvedValue({
      changes: [
        change('team:Billing', null, 'lead'),
        change('notification:ticket.assigned:email', 'immediate', 'off'),
        change('notification:quiet_hours', 'off', '20:00–08:00'),
      ],
    });
    await openColleague(fake, 'Sam Senior');
    const history = await within(record()).findByTestId('record-history');
    await fake.user.click(within(history).getByTestId('show-changes'));
    const rows = within(await within(history).findByTestId('record-changes')).getAllByRole('row');
    expect(rows[1]!.textContent).toContain('Team Billing');
    expect(rows[1]!.textContent).toContain('— → Lead');
    expect(rows[2]!.textContent).toContain('Email — Ticket assigned to me');
    expect(rows[3]!.textContent).toContain('Quiet hours');
    expect(fake.backend.listChanges).toHaveBeenCalledWith('agent-2');
  });

  it("are shown on a colleague's record to an administrator", async () => {
    const fake = setup(profile(), { admin: true });
    await openColleague(fake, 'Sam Senior');
    expect((await within(record()).findByTestId('record-tickets')).textContent).toContain('1001');
    expect(await within(record()).findByTestId('record-sign-ins')).toBeTruthy();
  });

  it("say what went wrong on the agent's own record when the server cannot be reached", async () => {
    const fake = setup(profile({ id: 'agent-2', display_name: 'Sam Senior' }));
    fake.backend.listTickets.mockRejectedValue({ code: 'server_unreachable', message: 'down', field: null });
    await openColleague(fake, 'Sam Senior');
    expect((await within(record()).findByTestId('tickets-error')).textContent).toContain("Can't reach the server");
  });
});

describe('accessibility of the new sections', () => {
  it("has no violations on a customer's record with files and tickets shown", async () => {
    const { view, user } = await openAda();
    await within(record()).findByTestId('record-tickets');
    await within(record()).findByTestId('record-activity');
    await user.click(within(record()).getByRole('button', { name: 'Save contract.pdf to Downloads' }));
    await within(record()).findByTestId('file-saved');
    await expectAccessible(view.container);
  });
});
