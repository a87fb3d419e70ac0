// The changes kept on this computer until the server has them, as the shell and the screens
// share them: loaded when an agent signs in, then kept current by the backend's
// `outbox-changed` events and read afresh right after a save, whose answer can come before
// the event does.

import type { Backend } from './backend';
import type { MergeConflict } from './generated/MergeConflict';
import type { OutboxState } from './generated/OutboxState';
import type { WaitingChange } from './generated/WaitingChange';
import { t } from './i18n/index.svelte';

/** Where a change the agent just saved is: on the server, or kept here until it can go. */
export type SavedWhere = 'server' | 'here' | 'signIn';

/** What the outbox says while nobody is signed in, or before it is read. */
function nothing(): OutboxState {
  return { changes: [], reachable: true, needs_sign_in: false, conflicts: [], as_of: null };
}

export class Outbox {
  state = $state<OutboxState>(nothing());
  /** Changes waiting to be sent, oldest first (refused ones aside). */
  waiting: WaitingChange[] = $derived(this.state.changes.filter((change) => change.refused === null));
  /** Changes the server refused for good, kept until the agent discards them. */
  refused: WaitingChange[] = $derived(this.state.changes.filter((change) => change.refused !== null));
  readonly backend: Backend;
  /** Bumped by every connect and disconnect: answers meant for an earlier one are dropped. */
  #generation = 0;
  /** Counts the events heard: an answer asked for before the latest event is older than it. */
  #heard = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Listens for changes and reads the state; the returned function stops listening and
   * forgets the state (the agent signed out). */
  connect(): () => void {
    const generation = ++this.#generation;
    let stop: (() => void) | undefined;
    this.backend
      .onOutboxChanged((next) => {
        if (generation !== this.#generation) return;
        this.#heard += 1;
        this.state = next;
      })
      .then(
        (unlisten) => (generation === this.#generation ? (stop = unlisten) : unlisten()),
        () => {},
      );
    this.refresh();
    return () => {
      stop?.();
      if (generation !== this.#generation) return;
      this.#generation += 1;
      this.state = nothing();
    };
  }

  /** Reads the state afresh; a failure keeps the state as it was. */
  async refresh(): Promise<OutboxState> {
    const generation = this.#generation;
    const heard = this.#heard;
    try {
      const fresh = await this.backend.outboxState();
      // An event heard meanwhile is at least as new as this answer.
      if (generation === this.#generation && heard === this.#heard) this.state = fresh;
    } catch {
      // The state stays as last heard.
    }
    return this.state;
  }

  /** Where the change the agent just saved is, read afresh: the command answers as soon as
   * the change is kept, and the event saying so may come after. */
  async afterSave(): Promise<SavedWhere> {
    const now = await this.refresh();
    if (!now.changes.some((change) => change.refused === null)) return 'server';
    if (now.needs_sign_in) return 'signIn';
    return now.reachable ? 'server' : 'here';
  }

  /** The fields whose values a change of the agent's replaced on `target` (`profile`,
   * `prefs`, `person:<id>`), oldest first. */
  conflictsFor(target: string): MergeConflict[] {
    return this.state.conflicts.filter((conflict) => conflict.target === target);
  }

  /** The conflict on one field of `target`, if there is one (the latest). */
  conflictOn(target: string, field: string): MergeConflict | undefined {
    return this.conflictsFor(target)
      .filter((conflict) => conflict.field === field)
      .at(-1);
  }

  /** Sends what waits now; a failure is thrown. */
  async sendNow(): Promise<void> {
    await this.backend.sendWaitingNow();
    await this.refresh();
  }

  /** Deletes a change the agent gave up on; a failure is thrown. */
  async discard(seq: number): Promise<void> {
    await this.backend.discardChange(seq);
    await this.refresh();
  }

  /** Sets a field back to the value a merge replaced; a failure is thrown. */
  async restore(conflictId: number): Promise<void> {
    await this.backend.restoreReplaced(conflictId);
    await this.refresh();
  }

  /** Keeps the agent's value and forgets the replaced one; a failure is thrown. */
  async dismiss(conflictId: number): Promise<void> {
    await this.backend.dismissConflict(conflictId);
    await this.refresh();
  }
}

/** What a screen says after a save: `saved` when the server has it, otherwise that it is
 * kept on this computer and when it goes. */
export function savedMessage(where: SavedWhere, saved: string): string {
  if (where === 'here') return t('outbox.savedHere');
  if (where === 'signIn') return t('outbox.savedForSignIn');
  return saved;
}
