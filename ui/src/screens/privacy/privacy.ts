// What the Privacy screen edits, and what colleagues get to see under it — the same
// rules the server applies (crates/core/src/people.rs), for the preview only: the server
// decides what it sends.

import type { ContactPrefs } from '../../lib/generated/ContactPrefs';
import type { Profile } from '../../lib/generated/Profile';
import type { Visibility } from '../../lib/generated/Visibility';

export interface PrivacyDraft {
  visibility: Visibility;
  contact_prefs: ContactPrefs;
}

export const VISIBILITIES: Visibility[] = ['public', 'department', 'private'];

export const CONTACT_PREFS: (keyof ContactPrefs)[] = [
  'allow_direct_messages',
  'show_phone',
  'show_online_status',
  'calendar_integration',
];

export function privacyOf(profile: Profile): PrivacyDraft {
  return { visibility: profile.visibility, contact_prefs: { ...profile.contact_prefs } };
}

export function samePrivacy(a: PrivacyDraft, b: PrivacyDraft): boolean {
  return a.visibility === b.visibility && CONTACT_PREFS.every((key) => a.contact_prefs[key] === b.contact_prefs[key]);
}

/** What a colleague sees beyond name and photo. */
export interface Sight {
  details: boolean;
  phones: boolean;
  status: boolean;
}

/** What a colleague of the agent's own department, or of another one, sees. */
export function sightOf(draft: PrivacyDraft, department: string | null, sameDepartment: boolean): Sight {
  const hasDepartment = (department ?? '').trim() !== '';
  const details =
    draft.visibility === 'public' || (draft.visibility === 'department' && sameDepartment && hasDepartment);
  return {
    details,
    phones: details && draft.contact_prefs.show_phone,
    status: details && draft.contact_prefs.show_online_status,
  };
}
