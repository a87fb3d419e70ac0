// What the People screen derives from a directory record.

import type { Colleague } from '../../lib/generated/Colleague';
import type { Person } from '../../lib/generated/Person';

/** The person's own clock, as "14:05" in the app's language; null without a valid zone. */
export function localTime(timezone: string | null | undefined, language: string, now: number = Date.now()): string | null {
  if (!timezone) return null;
  try {
    return new Intl.DateTimeFormat(language, { timeStyle: 'short', timeZone: timezone }).format(now);
  } catch {
    return null;
  }
}

/** Hours ahead of (positive) or behind the viewer's own clock, for "3 h ahead". */
export function hoursFromHere(timezone: string, now: number = Date.now()): number | null {
  try {
    const there = zoneOffsetMinutes(timezone, now);
    const here = -new Date(now).getTimezoneOffset();
    return (there - here) / 60;
  } catch {
    return null;
  }
}

function zoneOffsetMinutes(timezone: string, now: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((entry) => entry.type === type)?.value ?? 0);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'));
  return Math.round((asUtc - Math.floor(now / 60000) * 60000) / 60000);
}

/** The primary email, when the viewer may see the emails. */
export function primaryEmail(person: Pick<Colleague, 'emails'>): string | null {
  const emails = person.emails ?? [];
  return (emails.find((email) => email.primary) ?? emails[0])?.address ?? null;
}

export function nameOf(person: Person): string {
  return person.kind === 'agent' ? person.display_name : person.name;
}

/** What sits under the name in the list: a colleague's job title and department, a
 * customer's organization and primary email, as far as shown. */
export function subtitle(person: Person): string {
  const parts =
    person.kind === 'agent'
      ? [person.job_title, person.department]
      : [person.organization?.name, primaryEmail(person)];
  return parts.filter(Boolean).join(' · ');
}

/** A customer's text fields, in the order the record shows and edits them. */
export const CUSTOMER_DETAILS = [
  'name',
  'organization',
  'phone',
  'website',
  'im',
  'twitter',
  'linkedin',
  'facebook',
  'address',
  'timezone',
  'language',
] as const;
export type CustomerDetail = (typeof CUSTOMER_DETAILS)[number];

/** Fields with a name of their own under `people.field.*`. */
export function isNamedField(field: string): field is CustomerDetail | 'suppress_auto_replies' {
  return field === 'suppress_auto_replies' || (CUSTOMER_DETAILS as readonly string[]).includes(field);
}
