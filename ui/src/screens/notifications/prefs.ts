// The notification preferences form's model: the rows in their fixed order, what the agent
// changed, and how edits are carried over onto a newer version. Pure, so it is unit-tested.

import type { EmailFrequency } from '../../lib/generated/EmailFrequency';
import type { EventPrefs } from '../../lib/generated/EventPrefs';
import type { EventType } from '../../lib/generated/EventType';
import type { NotificationPrefs } from '../../lib/generated/NotificationPrefs';
import type { QuietHours } from '../../lib/generated/QuietHours';

/** Every event type, in the server's row order (the Rust `EventType::ALL`). */
export const EVENT_TYPES = [
  'ticket.assigned',
  'ticket.updated',
  'ticket.sla_warning',
  'ticket.customer_reply',
  'ticket.team_assigned',
  'system.maintenance',
  'kb.article_published',
  'report.weekly_summary',
  'team.join_requested',
  'team.request_decided',
  'department.request_decided',
  'ticket.created',
  'ticket.reply_other',
  'ticket.reply_unassigned',
  'rating.other',
  'chat.all_offline',
  'department.change_requested',
  'profile.updated',
] as const satisfies readonly EventType[];

/** Fails to compile when the generated union gains a type this list lacks. */
export type MissingEventType = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyType: MissingEventType extends never ? true : false = true;
void everyType;

/** Types only an administrator may switch on. */
export const ADMIN_ONLY_TYPES: readonly EventType[] = [
  'ticket.created',
  'ticket.reply_other',
  'ticket.reply_unassigned',
  'rating.other',
  'chat.all_offline',
  'department.change_requested',
];

/** The channels with a checkbox; email has a frequency of its own. */
export const CHANNELS = ['desktop', 'sound'] as const;
export type Channel = (typeof CHANNELS)[number];

export const EMAIL_FREQUENCIES: readonly EmailFrequency[] = ['immediate', 'digest', 'weekly', 'off'];

/** What the agent edits: the rows and the quiet hours. */
export interface Draft {
  events: EventPrefs[];
  quiet_hours: QuietHours;
}

export type QuietField = 'quiet_hours.start' | 'quiet_hours.end';

export function draftFrom(prefs: NotificationPrefs): Draft {
  return {
    events: prefs.events.map((row) => ({ ...row })),
    quiet_hours: { ...prefs.quiet_hours },
  };
}

/** The whole preferences as they are sent: every row and the quiet hours. */
export function prefsFrom(saved: NotificationPrefs, draft: Draft): NotificationPrefs {
  return {
    events: draft.events.map((row) => ({ ...row })),
    quiet_hours: { ...draft.quiet_hours },
    can_configure_admin_only: saved.can_configure_admin_only,
  };
}

/** An admin-only row the agent may not switch on. */
export function locked(row: EventPrefs, prefs: NotificationPrefs): boolean {
  return row.admin_only && !prefs.can_configure_admin_only;
}

function sameRow(a: EventPrefs, b: EventPrefs | undefined): boolean {
  return !!b && a.desktop === b.desktop && a.sound === b.sound && a.email === b.email;
}

const QUIET_KEYS = ['enabled', 'start', 'end'] as const;

/** The rows whose channels differ from the saved ones. */
export function changedRows(saved: NotificationPrefs, draft: Draft): EventType[] {
  return draft.events
    .filter((row) => !sameRow(row, saved.events.find((other) => other.type === row.type)))
    .map((row) => row.type);
}

export function quietHoursChanged(saved: NotificationPrefs, draft: Draft): boolean {
  return QUIET_KEYS.some((key) => saved.quiet_hours[key] !== draft.quiet_hours[key]);
}

export function isDirty(saved: NotificationPrefs, draft: Draft): boolean {
  return changedRows(saved, draft).length > 0 || quietHoursChanged(saved, draft);
}

/**
 * After a version conflict or a change elsewhere: start from the newer preferences and
 * re-apply only the settings the agent changed, one channel at a time.
 */
export function rebase(base: NotificationPrefs, fresh: NotificationPrefs, draft: Draft): Draft {
  const next = draftFrom(fresh);
  for (const row of next.events) {
    const before = base.events.find((other) => other.type === row.type);
    const mine = draft.events.find((other) => other.type === row.type);
    if (!before || !mine || locked(row, fresh)) continue;
    for (const channel of CHANNELS) if (mine[channel] !== before[channel]) row[channel] = mine[channel];
    if (mine.email !== before.email) row.email = mine.email;
  }
  for (const key of QUIET_KEYS) {
    if (draft.quiet_hours[key] !== base.quiet_hours[key]) {
      (next.quiet_hours as Record<string, unknown>)[key] = draft.quiet_hours[key];
    }
  }
  return next;
}

/** `HH:MM` on a 24-hour clock, as the server reads it. */
export function isClock(text: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(text);
}

/** What is wrong with the quiet hours before they are sent: malformed times, or an empty span. */
export function quietHoursProblems(quiet: QuietHours): { field: QuietField; problem: 'invalid' | 'same' }[] {
  const problems: { field: QuietField; problem: 'invalid' | 'same' }[] = [];
  if (!isClock(quiet.start)) problems.push({ field: 'quiet_hours.start', problem: 'invalid' });
  if (!isClock(quiet.end)) problems.push({ field: 'quiet_hours.end', problem: 'invalid' });
  if (problems.length === 0 && quiet.enabled && quiet.start === quiet.end) {
    problems.push({ field: 'quiet_hours.end', problem: 'same' });
  }
  return problems;
}

/**
 * The row a refusal names: the type's wire name (`ticket.created`, as `forbidden` answers)
 * or a path into the sent rows (`events[3].email`).
 */
export function rowNamed(field: string | null, sent: readonly EventPrefs[]): EventType | null {
  if (!field) return null;
  const known = (EVENT_TYPES as readonly string[]).includes(field);
  if (known) return field as EventType;
  const index = /^events\[(\d+)\]/.exec(field)?.[1];
  return index === undefined ? null : (sent[Number(index)]?.type ?? null);
}
