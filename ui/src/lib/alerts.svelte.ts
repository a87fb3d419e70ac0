// The alerts state the shell, the status control and the Notifications screen share: loaded
// once when signed in, then kept current by the backend's `alerts-changed` events and by the
// answers of the commands that change it.

import { asIpcError, type Backend } from './backend';
import type { AlertsState } from './generated/AlertsState';
import type { IpcError } from './generated/IpcError';

export class Alerts {
  /** Null until loaded. */
  state = $state<AlertsState | null>(null);
  /** Why the first load failed, while nothing is loaded. */
  loadError = $state<IpcError | null>(null);
  readonly backend: Backend;
  /** An event arrived while a load was on its way: the event is newer. */
  #heard = false;
  #alive = true;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Listens for changes and loads the state; the returned function stops listening. */
  connect(): () => void {
    let stop: (() => void) | undefined;
    this.backend.onAlertsChanged((next) => this.#changed(next)).then(
      (unlisten) => (this.#alive ? (stop = unlisten) : unlisten()),
      () => {},
    );
    this.load();
    return () => {
      this.#alive = false;
      stop?.();
    };
  }

  async load(): Promise<void> {
    this.#heard = false;
    this.loadError = null;
    try {
      const fresh = await this.backend.alertsState();
      if (this.#alive && !this.#heard) this.state = fresh;
    } catch (error) {
      if (this.#alive && !this.state) this.loadError = asIpcError(error);
    }
  }

  /** Runs a command that answers the new state, and shows it; a failure is thrown. */
  async run(command: (backend: Backend) => Promise<AlertsState>): Promise<AlertsState> {
    const next = await command(this.backend);
    if (this.#alive) this.state = next;
    return next;
  }

  #changed(next: AlertsState) {
    if (!this.#alive) return;
    this.#heard = true;
    this.loadError = null;
    this.state = next;
  }
}
