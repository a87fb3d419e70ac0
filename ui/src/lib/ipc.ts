// How the generated client (`generated/backend.ts`) calls the shell: every failure
// comes out as an `IpcError`, `{code, message, field}`, whatever broke.

import { invoke, type InvokeArgs, type InvokeOptions } from '@tauri-apps/api/core';
import type { IpcError } from './generated/IpcError';

/** A command failure as the UI sees it; always `{code, message, field}`. */
export function asIpcError(error: unknown): IpcError {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    return error as IpcError;
  }
  return { code: 'internal', message: String(error), field: null };
}

/** Calls a command: JSON arguments, or a raw body (bytes) with headers. */
export async function call<T>(command: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (error) {
    throw asIpcError(error);
  }
}
