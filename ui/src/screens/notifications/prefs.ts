// The notification preferences form's model: the rows in their fixed order, what the agent
// changed, and how edits are carried over onto a newer version. Pure, so it is unit-tested.
// The rules about the rows (their order, which are admin-only) and the quiet hours are core's:
// the rows come from the server, the quiet hours are checked by `checkQuietHours`.

import type { EventPrefs } from '../../lib/generated/EventPrefs';
import type { EventType } from '../../lib/generated/EventType';
import type { NotificationPrefs } from '../../lib/generated/NotificationPrefs';
import type { QuietHours } from '../../lib/generated/QuietHours';
import { EMAIL_FREQUENCIES, EVENT_TYPES } from '../../lib/generated/constants';
import { valueText } from '../../lib/changes';
import { t } from '../../lib/i18n/index.svelte';

/** The channels with a checkbox; email has a frequency of its own. */
export const CHANNELS = ['desktop', 'sound'] as const;
export type Channel = (typeof CHANNELS)[number];

export { EMAIL_FREQUENCIES } from '../../lib/generated/constants';

/** What the agent edits: the rows and the quiet hours. */
export interface Draft {
  events: EventPrefs[];
  quiet_hours: QuietHours;
}

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
    // A channel an administrator has locked since keeps the locked value.
    const open = (channel: Channel | 'email') => !(row.locked ?? []).includes(channel);
    for (const channel of CHANNELS) {
      if (mine[channel] !== before[channel] && open(channel)) row[channel] = mine[channel];
    }
    if (mine.email !== before.email && open('email')) row.email = mine.email;
  }
  for (const key of QUIET_KEYS) {
    if (draft.quiet_hours[key] !== base.quiet_hours[key]) {
      (next.quiet_hours as Record<string, unknown>)[key] = draft.quiet_hours[key];
    }
  }
  return next;
}

/** A refusal that names one channel of a row (`events[0].email`): a channel locked for
 * everyone, rather than a type only administrators may switch on. */
export function namesChannel(field: string | null): boolean {
  return !!field && /^events\[\d+\]\.(desktop|sound|email)$/.test(field);
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

/** A setting by its path, as the outbox names one a change replaced
 * (`events/ticket.assigned/desktop`, `quiet_hours/start`), in the form's words. */
export function settingName(path: string): string {
  const [group, name, part] = path.split('/');
  if (group === 'events' && name) {
    const type = EVENT_TYPES.find((known) => known === name);
    const channel = [...CHANNELS, 'email' as const].find((known) => known === part);
    if (type && channel) {
      return t('notifications.control', {
        channel: t(`notifications.channel.${channel}`),
        event: t(`event.${type}.label`),
      });
    }
  }
  if (group === 'quiet_hours') {
    const which = (['enabled', 'start', 'end'] as const).find((known) => known === name);
    if (which) return t('notifications.conflicts.quiet', { part: t(`notifications.quiet.${which}`) });
  }
  return path;
}

/** A setting's value in the form's words: an email frequency by its name, a switch on or off. */
export function settingValue(path: string, value: unknown): string | null {
  const frequency = EMAIL_FREQUENCIES.find((known) => known === value);
  if (path.endsWith('/email') && frequency) return t(`notifications.email.${frequency}`);
  return valueText(value);
}
