import { afterEach, describe, expect, it } from 'vitest';
import { fakeBackend, mergeConflict, refusedChange, waitingChange } from '../test/fake-backend';
import type { OutboxState } from './generated/OutboxState';
import { setLanguage } from './i18n/index.svelte';
import { Outbox, savedMessage } from './outbox.svelte';

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

function state(changes: Partial<OutboxState> = {}): OutboxState {
  return { changes: [], reachable: true, needs_sign_in: false, conflicts: [], as_of: null, ...changes };
}

describe('the outbox store', () => {
  afterEach(() => setLanguage('en'));

  it('reads the state on connect, follows the events, and forgets it all on disconnect', async () => {
    const fake = fakeBackend(undefined, { outbox: { changes: [waitingChange(1), refusedChange(2)], reachable: false } });
    const outbox = new Outbox(fake.backend);
    const stop = outbox.connect();
    await settled();
    expect(outbox.waiting.map((change) => change.seq)).toEqual([1]);
    expect(outbox.refused.map((change) => change.seq)).toEqual([2]);
    expect(fake.outboxListeners()).toBe(1);

    fake.changeOutbox({ changes: [], conflicts: [mergeConflict({ id: 3 }), mergeConflict({ id: 4, target: 'prefs' })] });
    expect(outbox.waiting).toEqual([]);
    expect(outbox.conflictsFor('profile').map((conflict) => conflict.id)).toEqual([3]);
    expect(outbox.conflictOn('profile', 'job_title')?.id).toBe(3);
    expect(outbox.conflictOn('profile', 'phone')).toBeUndefined();

    stop();
    expect(fake.outboxListeners()).toBe(0);
    expect(outbox.state).toEqual(state());
  });

  it('keeps an event heard while a read was on its way: it is the newer', async () => {
    const fake = fakeBackend();
    const outbox = new Outbox(fake.backend);
    outbox.connect();
    await settled();
    let answer: (value: OutboxState) => void = () => {};
    fake.backend.outboxState.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const reading = outbox.refresh();
    fake.changeOutbox({ changes: [waitingChange(9)], reachable: false });
    answer(state({ changes: [waitingChange(8)] }));
    await reading;
    expect(outbox.waiting.map((change) => change.seq)).toEqual([9]);
    expect(outbox.state.reachable).toBe(false);
  });

  it('drops what arrives for a connection that was stopped', async () => {
    const fake = fakeBackend(undefined, { outbox: { changes: [waitingChange(1)] } });
    let answer: (value: OutboxState) => void = () => {};
    fake.backend.outboxState.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const outbox = new Outbox(fake.backend);
    const stop = outbox.connect();
    stop();
    answer(state({ changes: [waitingChange(1)] }));
    await settled();
    expect(outbox.state.changes).toEqual([]);
  });

  it('tells where a change just saved is, from a fresh read', async () => {
    const fake = fakeBackend();
    const outbox = new Outbox(fake.backend);
    outbox.connect();
    await settled();
    const where = async (now: Partial<OutboxState>) => {
      fake.backend.outboxState.mockResolvedValueOnce(state(now));
      return outbox.afterSave();
    };
    expect(await where({})).toBe('server');
    expect(await where({ changes: [waitingChange(1)], reachable: false })).toBe('here');
    expect(await where({ changes: [waitingChange(1)], reachable: true })).toBe('server');
    expect(await where({ changes: [waitingChange(1)], reachable: true, needs_sign_in: true })).toBe('signIn');
    // Only a refused change left: nothing of the agent's waits.
    expect(await where({ changes: [refusedChange(2)], reachable: false })).toBe('server');
    // A failed read goes by the state last heard.
    fake.backend.outboxState.mockRejectedValueOnce({ code: 'internal', message: 'x', field: null });
    expect(await outbox.afterSave()).toBe('server');
  });

  it('words a save by where it went', () => {
    expect(savedMessage('server', 'Saved')).toBe('Saved');
    expect(savedMessage('here', 'Saved')).toBe('Saved on this computer — will sync when the server is back');
    expect(savedMessage('signIn', 'Saved')).toBe('Saved on this computer — will be sent when you sign in again');
    setLanguage('de');
    expect(savedMessage('here', 'Gespeichert')).toBe(
      'Auf diesem Computer gespeichert – wird synchronisiert, sobald der Server wieder erreichbar ist',
    );
  });
});
