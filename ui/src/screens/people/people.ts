// What the People screen derives from a directory record.

import type { Colleague } from '../../lib/generated/Colleague';
import type { EventType } from '../../lib/generated/EventType';
import type { Person } from '../../lib/generated/Person';
import { language, t } from '../../lib/i18n/index.svelte';

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
 * customer's number, organization and primary email, as far as shown. */
export function subtitle(person: Person): string {
  const parts =
    person.kind === 'agent'
      ? [person.job_title, person.department]
      : [t('people.number', { number: person.number }), person.organization?.name, primaryEmail(person)];
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

/** What happened to a ticket, in words. */
export function eventLabel(type: EventType): string {
  return t(`event.${type}.happened`);
}

/** A file's size the way file managers show it (1 MB = 1,000,000 bytes), in the UI language. */
export function fileSize(bytes: number, lang: string = language()): string {
  const [unit, divisor] =
    bytes >= 1e9 ? ['gigabyte', 1e9] : bytes >= 1e6 ? ['megabyte', 1e6] : bytes >= 1e3 ? ['kilobyte', 1e3] : ['byte', 1];
  // Bytes spelled out ("59 bytes"; the short form reads "59 byte"), the larger units short.
  const unitDisplay = unit === 'byte' ? 'long' : 'short';
  return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay, maximumFractionDigits: 1 }).format(
    bytes / divisor,
  );
}

/** Names people know file types by; the rest are shown as the server names them. */
const FILE_TYPES: Record<string, string> = {
  'application/pdf': 'PDF',
  'application/zip': 'ZIP',
  'application/gzip': 'GZIP',
  'application/msword': 'Word',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.ms-excel': 'Excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
  'application/vnd.ms-powerpoint': 'PowerPoint',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PowerPoint',
  'application/vnd.oasis.opendocument.text': 'OpenDocument',
  'audio/mpeg': 'MP3',
  'video/mp4': 'MP4',
};

/** A file's type in words: "PDF", "PNG image", "Text". */
export function fileType(contentType: string): string {
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  if (FILE_TYPES[mime]) return FILE_TYPES[mime];
  if (mime.startsWith('text/')) return t('people.files.type.text');
  if (mime === 'application/octet-stream' || !mime) return t('people.files.type.unknown');
  if (mime.startsWith('image/')) {
    const format = mime.slice('image/'.length).replace(/^svg\+xml$/, 'svg');
    return t('people.files.type.image', { format: format === 'webp' ? 'WebP' : format.toUpperCase() });
  }
  return mime;
}
