// The Profile form's model: what the agent edits, what differs from the server, and how
// edits are carried over onto a newer version after a conflict. Pure, so it is unit-tested.

import type { Profile } from '../../lib/generated/Profile';
import type { ProfileField } from '../../lib/generated/ProfileField';
import type { ProfilePatch } from '../../lib/generated/ProfilePatch';

export const TEXT_FIELDS = [
  'display_name',
  'job_title',
  'department',
  'phone',
  'mobile',
  'office_location',
  'timezone',
  'language',
  'signature',
  'operator_id',
] as const;

export type TextField = (typeof TEXT_FIELDS)[number];
export type EditableField = TextField | 'use_signature';
export type Draft = Record<TextField, string> & { use_signature: boolean };

export function draftFrom(profile: Profile): Draft {
  const draft = { use_signature: profile.use_signature } as Draft;
  for (const field of TEXT_FIELDS) draft[field] = profile[field] ?? '';
  return draft;
}

// Signatures keep their inner line breaks; other fields are single lines.
function normalise(field: TextField, value: string): string {
  return field === 'signature' ? value.trimEnd() : value.trim();
}

/** The fields whose edited value differs from the saved profile. */
export function changedFields(saved: Profile, draft: Draft): EditableField[] {
  const changed: EditableField[] = TEXT_FIELDS.filter(
    (field) => normalise(field, draft[field]) !== normalise(field, saved[field] ?? ''),
  );
  if (draft.use_signature !== saved.use_signature) changed.push('use_signature');
  return changed;
}

/** A PATCH body with only what changed. */
export function patchFor(saved: Profile, draft: Draft): ProfilePatch {
  const patch: ProfilePatch = {};
  for (const field of changedFields(saved, draft)) {
    if (field === 'use_signature') patch.use_signature = draft.use_signature;
    else patch[field] = draft[field];
  }
  return patch;
}

/**
 * After a version conflict: start from the server's newer profile and re-apply only the
 * fields the agent changed. Returns the new draft and the fields where both sides changed.
 */
export function rebase(
  base: Profile,
  fresh: Profile,
  draft: Draft,
): { draft: Draft; bothChanged: ProfileField[] } {
  const mine = changedFields(base, draft);
  const theirs = changedFields(base, draftFrom(fresh));
  const next = draftFrom(fresh);
  for (const field of mine) {
    if (field === 'use_signature') next.use_signature = draft.use_signature;
    else next[field] = draft[field];
  }
  return { draft: next, bothChanged: mine.filter((field) => theirs.includes(field)) };
}

/** `+60` → `UTC+01:00`. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '−' : '+';
  const absolute = Math.abs(minutes);
  const hours = String(Math.floor(absolute / 60)).padStart(2, '0');
  const rest = String(absolute % 60).padStart(2, '0');
  return `UTC${sign}${hours}:${rest}`;
}
