// Join requests and decisions refused because the team or the request changed.

import type { IpcError } from '../../lib/generated/IpcError';
import { t } from '../../lib/i18n/index.svelte';

/** What to tell the agent when a request or a decision is refused because the team or
 * the request changed meanwhile; null for failures with a general message. */
export function requestError(failure: IpcError): string | null {
  switch (failure.code) {
    case 'already_in_team':
      return t('teams.error.alreadyIn');
    case 'already_requested':
      return t('teams.error.alreadyAsked');
    case 'already_decided':
      return t('teams.error.alreadyDecided');
    case 'forbidden':
      return t('teams.error.notLead');
    case 'not_found':
      return t('teams.error.gone');
    default:
      return null;
  }
}
