// What the update banner and This computer say about an update, from the shell's state.

import type { Backend } from './backend';
import type { UpdateFailure } from './generated/UpdateFailure';
import type { UpdateState } from './generated/UpdateState';
import { t } from './i18n/index.svelte';

/** Why an update did not happen, in a sentence. */
export function failureReason(failure: UpdateFailure): string {
  switch (failure.code) {
    case 'no_server':
      return t('update.why.no_server');
    case 'insecure_server':
      return t('update.why.insecure_server');
    case 'check':
      return t('update.why.check', { detail: failure.detail });
    case 'download':
      return t('update.why.download', { detail: failure.detail });
    case 'signature':
      return t('update.why.signature');
    case 'install':
      return t('update.why.install', { detail: failure.detail });
  }
}

/** Download progress as a percentage, when the size is known. */
export function progress(received: number, total: number | null): string {
  if (!total || total <= 0) return '';
  return `${Math.min(100, Math.floor((received / total) * 100))} %`;
}

/** A failure about a found release, which the banner tells; a failed check is told on
 * This computer only, so an unreachable server does not nag. */
export function failedRelease(state: UpdateState): { version: string; failure: UpdateFailure } | null {
  const phase = state.phase;
  if (phase.phase !== 'failed' || phase.version === null) return null;
  return { version: phase.version, failure: phase.failure };
}

/** Hands `onState` what the shell knows of updates now, then each change, until the
 * returned function is called. A change heard first is not overwritten by the older
 * answer. */
export function followUpdates(backend: Backend, onState: (state: UpdateState) => void): () => void {
  let alive = true;
  let heard = false;
  let stop: (() => void) | null = null;
  backend
    .onUpdateChanged((next) => {
      heard = true;
      onState(next);
    })
    .then(
      (unlisten) => (alive ? (stop = unlisten) : unlisten()),
      () => {},
    );
  backend.updateState().then(
    (state) => {
      if (alive && !heard) onState(state);
    },
    () => {},
  );
  return () => {
    alive = false;
    stop?.();
  };
}
