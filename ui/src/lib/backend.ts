// The UI's only way to the rest of the app. `Backend` and `tauriBackend` are generated
// from the commands and events the shell defines; tests pass their own `Backend`, so
// screens run without the desktop shell.

export type { Backend } from './generated/backend';
export { tauriBackend } from './generated/backend';
export { asIpcError } from './ipc';
