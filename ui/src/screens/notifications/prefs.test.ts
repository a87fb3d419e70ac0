import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { defaultPrefs } from '../../test/fake-backend';
import {
  changedRows,
  draftFrom,
  isDirty,
  prefsFrom,
  rebase,
  rowNamed,
  settingName,
  settingValue,
  type Draft,
} from './prefs';

function edit(draft: Draft, type: string, change: object): Draft {
  return { ...draft, events: draft.events.map((row) => (row.type === type ? { ...row, ...change } : row)) };
}

describe('notification preferences form', () => {
  it('sees a change of one channel or of the quiet hours, and not an unchanged copy', () => {
    const saved = defaultPrefs();
    expect(isDirty(saved, draftFrom(saved))).toBe(false);
    const sounded = edit(draftFrom(saved), 'ticket.updated', { sound: false });
    expect(changedRows(saved, sounded)).toEqual(['ticket.updated']);
    expect(isDirty(saved, sounded)).toBe(true);
    const quiet = draftFrom(saved);
    quiet.quiet_hours.enabled = true;
    expect(changedRows(saved, quiet)).toEqual([]);
    expect(isDirty(saved, quiet)).toBe(true);
  });

  it('sends every row and the quiet hours, with the server-set flag as it was', () => {
    const saved = defaultPrefs(true);
    const sent = prefsFrom(saved, edit(draftFrom(saved), 'ticket.created', { desktop: true }));
    expect(sent.events).toHaveLength(17);
    // The channels there are: no push, which nothing ever delivered.
    for (const row of sent.events) expect(Object.keys(row).sort()).toEqual(['admin_only', 'desktop', 'email', 'lock_reason', 'locked', 'sound', 'type']);
    expect(sent.events.find((row) => row.type === 'ticket.created')?.desktop).toBe(true);
    expect(sent.can_configure_admin_only).toBe(true);
    expect(sent.quiet_hours).toEqual({ enabled: false, start: '22:00', end: '07:00' });
  });

  it('rebases the agent’s own changes, channel by channel, onto a newer version', () => {
    const base = defaultPrefs();
    const fresh = defaultPrefs();
    fresh.events[0] = { ...fresh.events[0]!, sound: false, email: 'digest' };
    fresh.quiet_hours = { enabled: true, start: '21:00', end: '06:00' };
    let draft = edit(draftFrom(base), 'ticket.assigned', { desktop: false });
    draft = { ...draft, quiet_hours: { ...draft.quiet_hours, end: '08:00' } };
    const next = rebase(base, fresh, draft);
    expect(next.events[0]).toMatchObject({
      type: 'ticket.assigned',
      desktop: false,
      sound: false,
      email: 'digest',
    });
    expect(next.quiet_hours).toEqual({ enabled: true, start: '21:00', end: '08:00' });
  });

  it('finds the row a refusal names, by wire name or by position', () => {
    const sent = defaultPrefs().events;
    expect(rowNamed('ticket.created', sent)).toBe('ticket.created');
    expect(rowNamed('events[2].email', sent)).toBe('ticket.sla_warning');
    expect(rowNamed('events[99].email', sent)).toBeNull();
    expect(rowNamed('quiet_hours.start', sent)).toBeNull();
    expect(rowNamed(null, sent)).toBeNull();
  });
});

describe('settings by their path', () => {
  afterEach(() => setLanguage('en'));

  it('names an event channel and the quiet hours as the form does, and words their values', () => {
    expect(settingName('events/ticket.assigned/desktop')).toBe('Desktop — Ticket assigned to me');
    expect(settingName('events/ticket.assigned/email')).toBe('Email — Ticket assigned to me');
    expect(settingName('quiet_hours/start')).toBe('Quiet hours — From');
    expect(settingName('events/no.such/desktop')).toBe('events/no.such/desktop');
    expect(settingValue('events/ticket.assigned/email', 'weekly')).toBe('Weekly (Monday)');
    expect(settingValue('events/ticket.assigned/sound', false)).toBe('Off');
    expect(settingValue('quiet_hours/start', '22:00')).toBe('22:00');
    setLanguage('de');
    expect(settingName('quiet_hours/enabled')).toBe('Ruhezeiten – In diesen Stunden Ruhe halten');
  });
});
