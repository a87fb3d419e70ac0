// What the Privacy screen edits. What colleagues get to see under it is core's rule
// (crates/core/src/people.rs), which the screen asks for through `privacyPreview`.

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
