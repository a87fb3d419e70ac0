// How an Administration tab makes a change: one at a time, the tab's lists read again after
// it, and the outcome said in a banner (`Outcome.svelte`) that takes the focus so a screen
// reader hears it. A refusal the tab shows at a field is left to it.

import { tick } from 'svelte';
import type { IpcError } from '../../lib/generated/IpcError';
import { errorMessage } from '../../lib/i18n/index.svelte';

export interface Said {
  kind: 'success' | 'error';
  text: string;
}

export class AdminChanges {
  said = $state<Said | null>(null);
  busy = $state(false);
  /** The banner, focused when something is said. */
  banner = $state<HTMLElement | undefined>();

  constructor(
    private readonly reload: () => Promise<void>,
    private readonly onsessionended: () => void,
  ) {}

  async say(kind: Said['kind'], text: string) {
    this.said = { kind, text };
    await tick();
    this.banner?.focus();
  }

  /** A failure: the session's end is told to the shell, and the failure said. */
  async failed(failure: IpcError) {
    if (failure.code === 'unauthorized') this.onsessionended();
    await this.say('error', errorMessage(failure));
  }

  /**
   * Runs one change, reads the lists again and says `done`. A refusal `atField` shows at a
   * field is not said again; a thing gone meanwhile is read again. Answers whether it went.
   */
  async run(change: () => Promise<unknown>, done: string, atField?: (failure: IpcError) => boolean): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.said = null;
    try {
      await change();
      await this.reload();
      await this.say('success', done);
      return true;
    } catch (error) {
      const failure = error as IpcError;
      if (atField?.(failure)) {
        if (failure.code === 'unauthorized') this.onsessionended();
      } else {
        await this.failed(failure);
      }
      if (failure.code === 'not_found') await this.reload();
      return false;
    } finally {
      this.busy = false;
    }
  }

  /**
   * `run` for a change that names something (makes or renames it): a refusal of the name
   * is answered for the name's field rather than said.
   */
  async runNaming(change: () => Promise<unknown>, done: string): Promise<{ done: boolean; refused: string | null }> {
    let refused: string | null = null;
    const went = await this.run(change, done, (failure) => {
      if (failure.field !== 'name') return false;
      refused = errorMessage(failure);
      return true;
    });
    return { done: went, refused };
  }
}
