// Changes kept on this computer in words: what a change was ("Profile: Job title", "Note on
// a customer"), why the server refused it, and a value a change replaced.

import type { IpcError } from './generated/IpcError';
import type { LocalChange } from './generated/LocalChange';
import type { Refusal } from './generated/Refusal';
import { en } from './i18n/en';
import { errorMessage, t, type MessageKey } from './i18n/index.svelte';

/** `key` when the catalog has it, else null. */
function known(key: string): MessageKey | null {
  return key in en ? (key as MessageKey) : null;
}

/** A field of the agent's own profile (privacy included), by its name in a patch. */
export function profileFieldName(field: string): string {
  if (field === 'visibility') return t('privacy.visibility.title');
  if (field === 'contact_prefs') return t('privacy.contact.title');
  const key = known(`profile.${field}`);
  return key ? t(key) : field;
}

/** A field of a customer's record, by its name in a patch; custom fields by `names`
 * (id → name) when known. */
export function customerFieldName(field: string, names: Record<string, string> = {}): string {
  const custom = /^custom_fields[/.](.+)$/.exec(field);
  if (custom) return names[custom[1]!] ?? t('outbox.customField');
  if (field === 'summary') return t('people.summary');
  if (field === 'usergroups') return t('people.usergroups');
  const key = known(`people.field.${field}`);
  return key ? t(key) : field;
}

function fieldList(patch: Record<string, unknown>, name: (field: string) => string): string {
  const fields = Object.entries(patch).flatMap(([field, value]) =>
    field === 'custom_fields' && value !== null && typeof value === 'object'
      ? Object.keys(value).map((id) => `custom_fields/${id}`)
      : [field],
  );
  return [...new Set(fields.map(name))].join(', ');
}

/** What a change was, in words. */
export function describeChange(change: LocalChange): string {
  switch (change.kind) {
    case 'profile':
      return t('outbox.change.profile', { fields: fieldList(change.patch, profileFieldName) });
    case 'status':
      return t('outbox.change.status', { status: t(`status.${change.update.status}`) });
    case 'notification_prefs':
      return t('outbox.change.notification_prefs');
    case 'photo':
      return t('outbox.change.photo');
    case 'photo_removed':
      return t('outbox.change.photo_removed');
    case 'customer':
      return t('outbox.change.customer', { fields: fieldList(change.patch, (field) => customerFieldName(field)) });
    case 'email_added':
      return t('outbox.change.email_added', { address: change.email.address });
    case 'email_removed':
      return t('outbox.change.email_removed', { address: change.address });
    case 'email_made_primary':
      return t('outbox.change.email_made_primary', { address: change.address });
    case 'note_added':
      return t('outbox.change.note_added');
    case 'note_edited':
      return t('outbox.change.note_edited');
    case 'note_deleted':
      return t('outbox.change.note_deleted');
    case 'join_requested':
      return t('outbox.change.join_requested');
  }
}

const EXCERPT = 120;

/** The words the agent wrote, for a change that carries some (a note, a note to the leads);
 * long ones cut short. */
export function changeText(change: LocalChange): string | null {
  const text =
    change.kind === 'note_added' || change.kind === 'note_edited'
      ? change.body
      : change.kind === 'join_requested'
        ? change.note
        : null;
  const trimmed = text?.trim().replace(/\s+/g, ' ');
  if (!trimmed) return null;
  const chars = [...trimmed];
  return chars.length > EXCERPT ? `${chars.slice(0, EXCERPT - 1).join('')}…` : trimmed;
}

/** Why the server refused a change: in the app's words when it knows the code, otherwise
 * the server's own. */
export function refusalReason(refusal: Refusal): string {
  const own = REFUSALS[refusal.code] ?? known(`outbox.refusal.${refusal.code}`);
  if (own) return t(own, { message: refusal.message });
  if (known(`error.${refusal.code}`)) {
    // The code is one of the server's, which the catalog words under `error.`.
    return errorMessage({ code: refusal.code as IpcError['code'], message: refusal.message, field: refusal.field });
  }
  return refusal.message ? t('outbox.refusal.server', { message: refusal.message }) : t('error.internal');
}

/** Refusals the app words already elsewhere. */
const REFUSALS: Partial<Record<string, MessageKey>> = {
  already_in_team: 'teams.error.alreadyIn',
  already_requested: 'teams.error.alreadyAsked',
};

/** A value a change replaced, as text; null for none (empty text counts as none, as the
 * server has it). */
export function valueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? t('conflict.on') : t('conflict.off');
  if (Array.isArray(value)) {
    const items = value.map(valueText).filter((item): item is string => item !== null);
    return items.length > 0 ? items.join(', ') : null;
  }
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value).trim();
  return text === '' ? null : text;
}
