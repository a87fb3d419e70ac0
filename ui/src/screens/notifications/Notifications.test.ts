import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Alerts } from '../../lib/alerts.svelte';
import type { AlertsState } from '../../lib/generated/AlertsState';
import type { IpcError } from '../../lib/generated/IpcError';
import type { SelfTestProblem } from '../../lib/generated/SelfTestProblem';
import type { SelfTestReport } from '../../lib/generated/SelfTestReport';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import {
  alert,
  defaultPrefs,
  failure,
  fakeBackend,
  mergeConflict,
  profile,
  selfTestOk,
  waitingChange,
  type FakeOptions,
} from '../../test/fake-backend';
import Notifications from './Notifications.svelte';

let stops: (() => void)[] = [];

async function setup(options: FakeOptions = {}, before: (fake: ReturnType<typeof fakeBackend>) => void = () => {}) {
  const fake = fakeBackend(profile(), options);
  before(fake);
  const alerts = new Alerts(fake.backend);
  stops.push(alerts.connect());
  const onsessionended = vi.fn();
  const view = render(Notifications, { backend: fake.backend, outbox: fake.connectOutbox(), alerts, timezone: 'Europe/Berlin', onsessionended });
  await screen.findByTestId('prefs-table');
  await waitFor(() => expect(alerts.state).not.toBeNull());
  return { ...fake, alerts, onsessionended, view, user: userEvent.setup() };
}

function pending<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((yes) => (resolve = yes));
  return { promise, resolve };
}

const row = (type: string) => screen.getByTestId(`pref-${type}`);
const box = (name: string) => screen.getByRole('checkbox', { name }) as HTMLInputElement;
const email = (event: string) => screen.getByRole('combobox', { name: `Email — ${event}` }) as HTMLSelectElement;
const saveButton = () => screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement;
const INVALID_TIME = 'Enter a time as HH:MM, from 00:00 to 23:59.';
const saveState = () => screen.getByTestId('prefs-save-state').textContent ?? '';

const AGENT_ROWS = [
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
];
const ADMIN_ROWS = [
  'ticket.created',
  'ticket.reply_other',
  'ticket.reply_unassigned',
  'rating.other',
  'chat.all_offline',
  'department.change_requested',
];

describe('notification preferences', () => {
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
    setLanguage('en');
  });

  it('shows a row per event type with its channels, in the server’s order', async () => {
    await setup({}, (fake) =>
      fake.changePrefsElsewhere((prefs) => {
        prefs.events.find((row) => row.type === 'report.weekly_summary')!.email = 'weekly';
        prefs.events.find((row) => row.type === 'ticket.updated')!.sound = false;
      }),
    );
    const table = screen.getByRole('table', { name: 'What you are alerted to' });
    const headers = within(table).getAllByRole('columnheader').map((cell) => cell.textContent?.trim());
    expect(headers).toEqual(['Event', 'Desktop', 'Sound', 'Email']);
    const rows = [...table.querySelectorAll('tr[data-testid^="pref-"]')].map((tr) => tr.getAttribute('data-testid'));
    expect(rows).toEqual([...AGENT_ROWS, ...ADMIN_ROWS].map((type) => `pref-${type}`));
    expect(screen.queryByTestId('pref-profile.updated')).toBeNull();
    expect(within(row('ticket.assigned')).getByRole('rowheader').textContent).toContain('Ticket assigned to me');
    expect(box('Desktop — Ticket assigned to me').checked).toBe(true);
    expect(box('Sound — Ticket assigned to me').checked).toBe(true);
    expect(box("Sound — A ticket I'm watching is updated").checked).toBe(false);
    expect(email('Ticket assigned to me').value).toBe('immediate');
    // A decision on the agent's change of department is theirs to configure, on by default.
    expect(row('department.request_decided').textContent).not.toContain('Only an administrator');
    expect(box('Desktop — My request to change department is decided').checked).toBe(true);
    expect(email('My request to change department is decided').value).toBe('immediate');
    expect(email('Weekly summary report').value).toBe('weekly');
    expect([...email('Ticket assigned to me').options].map((o) => o.textContent)).toEqual([
      'Immediately',
      'Daily digest (09:00)',
      'Weekly (Monday)',
      'Off',
    ]);
    expect(saveButton().disabled).toBe(true);
  });

  it('offers no push channel and promises none, in either language', async () => {
    const { view, backend, user } = await setup();
    for (const [lang, sound] of [
      ['de', 'Ton'],
      ['en', 'Sound'],
    ] as const) {
      setLanguage(lang);
      await screen.findByRole('columnheader', { name: sound });
      expect(view.container.textContent).not.toMatch(/push/i);
    }
    expect(screen.getByText(/email reaches your inbox/)).toBeTruthy();
    // What is saved has only the channels there are.
    await user.click(box('Desktop — Ticket assigned to me'));
    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('Saved'));
    const [sent] = backend.saveNotificationPrefs.mock.calls[0]!;
    for (const sentRow of sent.events) expect(sentRow).not.toHaveProperty('push');
  });

  it('locks the admin-only rows for an agent and says why, under their own heading', async () => {
    await setup();
    const group = screen.getByTestId('admin-only-rows');
    expect(within(group).getByRole('heading', { level: 3 }).textContent).toBe('Admin-only');
    for (const type of ADMIN_ROWS) {
      const tr = within(group).getByTestId(`pref-${type}`);
      expect(tr.textContent).toContain('Only an administrator can turn this on.');
      for (const control of within(tr).getAllByRole('checkbox')) {
        expect((control as HTMLInputElement).disabled).toBe(true);
      }
      expect((within(tr).getByRole('combobox') as HTMLSelectElement).disabled).toBe(true);
    }
    expect(within(group).getByTestId('pref-department.change_requested').textContent).toContain(
      'An agent asks to change department',
    );
    const desktop = box('Desktop — Any new ticket');
    expect(document.getElementById(desktop.getAttribute('aria-describedby')!)?.textContent).toBe(
      'Only an administrator can turn this on.',
    );
    expect(box('Desktop — Ticket assigned to me').disabled).toBe(false);
    expect(row('ticket.assigned').textContent).not.toContain('Only an administrator');
  });

  it('lets an administrator switch the admin-only rows on', async () => {
    const { backend, user, prefs } = await setup({ admin: true });
    expect(screen.queryByText('Only an administrator can turn this on.')).toBeNull();
    const desktop = box('Desktop — Any new ticket');
    expect(desktop.disabled).toBe(false);
    await user.click(desktop);
    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('Saved'));
    expect(backend.saveNotificationPrefs).toHaveBeenCalledTimes(1);
    expect(prefs().prefs.events.find((r) => r.type === 'ticket.created')?.desktop).toBe(true);
  });

  it('saves the whole preferences with the etag, confirms, and reports unsaved changes', async () => {
    const { backend, user, prefs } = await setup();
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
    await user.click(box('Desktop — Ticket assigned to me'));
    await user.selectOptions(email("A ticket I'm watching is updated"), 'weekly');
    expect(saveState()).toContain('You have unsaved changes.');
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(true);
    expect(saveButton().disabled).toBe(false);
    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('✓ Saved'));

    const expected = defaultPrefs();
    expected.events[0]!.desktop = false;
    expected.events[1]!.email = 'weekly';
    expect(backend.saveNotificationPrefs).toHaveBeenCalledWith(expected, '"p1"');
    expect(prefs().etag).toBe('"p2"');
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
    expect(saveButton().disabled).toBe(true);

    // The next save sends the new version's etag.
    await user.click(box('Desktop — Ticket assigned to me'));
    await user.click(saveButton());
    await waitFor(() => expect(backend.saveNotificationPrefs).toHaveBeenLastCalledWith(expect.anything(), '"p2"'));
  });

  it('discards changes back to what is saved', async () => {
    const { backend, user } = await setup();
    await user.click(box('Sound — SLA deadline approaching'));
    expect(box('Sound — SLA deadline approaching').checked).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Discard changes' }));
    expect(box('Sound — SLA deadline approaching').checked).toBe(true);
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
    expect(backend.saveNotificationPrefs).not.toHaveBeenCalled();
  });

  it('shows a refusal of an admin-only type at its row', async () => {
    // The agent could configure admin-only types when the screen loaded; not any more.
    const { backend, user } = await setup({ admin: true });
    backend.saveNotificationPrefs.mockRejectedValueOnce(
      failure('forbidden', 'only an administrator may switch on rating.other', 'rating.other'),
    );
    await user.click(box('Sound — Customer rated another agent'));
    await user.click(saveButton());
    const tr = row('rating.other');
    const error = await within(tr).findByRole('alert');
    expect(error.textContent).toBe('Only an administrator can turn this on.');
    expect(backend.saveNotificationPrefs).toHaveBeenCalledTimes(1);
    expect(box('Sound — Customer rated another agent').getAttribute('aria-invalid')).toBe('true');
    expect(box('Sound — Customer rated another agent').checked).toBe(true);
    expect(screen.getByTestId('prefs-banner').textContent).toContain('Fix the highlighted fields to save.');
    expect(within(row('ticket.assigned')).queryByRole('alert')).toBeNull();
    expect(saveState()).toContain('unsaved');
    expect(document.activeElement).toBe(box('Desktop — Customer rated another agent'));
  });

  it('asks core about the quiet hours as they change and before sending, and shows its answer at the fields', async () => {
    const { backend, user } = await setup();
    expect(screen.getByText(/only critical alerts interrupt you/).textContent).toContain('Europe/Berlin');
    await user.click(screen.getByLabelText('Keep quiet during these hours'));
    await waitFor(() =>
      expect(backend.checkQuietHours).toHaveBeenLastCalledWith({ enabled: true, start: '22:00', end: '07:00' }),
    );
    expect(await screen.findByTestId('quiet-overnight')).toBeTruthy();
    expect(screen.getByTestId('quiet-overnight').textContent).toBe('From 22:00 until 07:00 the next morning.');
    const start = screen.getByLabelText('From') as HTMLInputElement;
    const end = screen.getByLabelText('To') as HTMLInputElement;
    expect(start.type).toBe('time');

    backend.checkQuietHours.mockResolvedValue([{ field: 'quiet_hours.start', problem: 'invalid' }]);
    await fireEvent.input(start, { target: { value: '' } });
    await waitFor(() => expect(screen.queryByTestId('quiet-overnight')).toBeNull());
    await user.click(saveButton());
    expect(backend.checkQuietHours).toHaveBeenLastCalledWith({ enabled: true, start: '', end: '07:00' });
    await waitFor(() => expect(document.getElementById('quiet-start-error')?.textContent).toBe(INVALID_TIME));
    expect(backend.saveNotificationPrefs).not.toHaveBeenCalled();
    expect(start.getAttribute('aria-invalid')).toBe('true');
    await waitFor(() => expect(document.activeElement).toBe(start));

    backend.checkQuietHours.mockResolvedValue([{ field: 'quiet_hours.end', problem: 'empty_span' }]);
    await fireEvent.input(start, { target: { value: '07:00' } });
    expect(document.getElementById('quiet-start-error')).toBeNull();
    await user.click(saveButton());
    expect(backend.checkQuietHours).toHaveBeenLastCalledWith({ enabled: true, start: '07:00', end: '07:00' });
    await waitFor(() =>
      expect(document.getElementById('quiet-end-error')?.textContent).toBe('Choose an end that differs from the start.'),
    );
    expect(backend.saveNotificationPrefs).not.toHaveBeenCalled();

    backend.checkQuietHours.mockResolvedValue([]);
    await fireEvent.input(end, { target: { value: '09:00' } });
    const refusal: IpcError = {
      code: 'validation_failed',
      message: 'quiet_hours.end must be a time',
      field: 'quiet_hours.end',
    };
    backend.saveNotificationPrefs.mockRejectedValueOnce(refusal);
    await user.click(saveButton());
    await waitFor(() => expect(document.getElementById('quiet-end-error')?.textContent).toBe(INVALID_TIME));
    expect(end.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('quiet-start-error')).toBeNull();

    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('Saved'));
    expect(backend.saveNotificationPrefs).toHaveBeenLastCalledWith(
      expect.objectContaining({ quiet_hours: { enabled: true, start: '07:00', end: '09:00' } }),
      '"p1"',
    );
  });

  it('sends the preferences when core cannot be asked about the quiet hours', async () => {
    const { backend, user } = await setup();
    backend.checkQuietHours.mockRejectedValue(failure('internal', 'boom'));
    await user.click(screen.getByLabelText('Keep quiet during these hours'));
    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('Saved'));
    expect(backend.saveNotificationPrefs).toHaveBeenCalledTimes(1);
  });

  it('keeps the edits over a change made elsewhere, and says so', async () => {
    const { backend, user, changePrefsElsewhere, prefs } = await setup();
    changePrefsElsewhere((p) => {
      p.events[1]!.sound = false;
    });
    backend.saveNotificationPrefs.mockRejectedValueOnce(failure('version_conflict', 'stale'));
    await user.click(box('Sound — Ticket assigned to me'));
    await user.click(saveButton());
    expect((await screen.findByTestId('prefs-banner')).textContent).toContain('changed elsewhere');
    expect(backend.saveNotificationPrefs).toHaveBeenCalledWith(expect.anything(), '"p1"');
    expect(box("Sound — A ticket I'm watching is updated").checked).toBe(false);
    expect(box('Sound — Ticket assigned to me').checked).toBe(false);
    expect(saveState()).toContain('unsaved');
    await user.click(saveButton());
    await waitFor(() => expect(saveState()).toContain('Saved'));
    expect(backend.saveNotificationPrefs).toHaveBeenLastCalledWith(expect.anything(), '"p2"');
    expect(prefs().etag).toBe('"p3"');
    expect(prefs().prefs.events.slice(0, 2).map((r) => r.sound)).toEqual([false, false]);
  });

  it('shows channels an administrator locked as set, disabled, with the reason, and the rest as the agent’s', async () => {
    const { user, prefsChangedByAdministrator } = await setup();
    prefsChangedByAdministrator((p) => {
      const assigned = p.events[0]!;
      assigned.email = 'digest';
      assigned.locked = ['sound', 'email'];
      assigned.lock_reason = 'SLA: answer within 5 minutes';
    });
    await waitFor(() => expect(email('Ticket assigned to me').value).toBe('digest'));
    expect(email('Ticket assigned to me').disabled).toBe(true);
    expect(box('Sound — Ticket assigned to me').disabled).toBe(true);
    expect(box('Desktop — Ticket assigned to me').disabled).toBe(false);
    const reason = within(row('ticket.assigned')).getByTestId('lock-reason');
    expect(reason.textContent).toContain('Sound, Email: set for everyone by an administrator — SLA: answer within 5 minutes');
    expect(box('Sound — Ticket assigned to me').getAttribute('aria-describedby')).toContain(reason.id);
    expect(within(row('ticket.updated')).queryByTestId('lock-reason')).toBeNull();
    // Not an edit: nothing is unsaved.
    expect(saveButton().disabled).toBe(true);
    await user.click(box('Desktop — Ticket assigned to me'));
    expect(saveButton().disabled).toBe(false);
  });

  it('keeps edits over what an administrator changed, except on what they locked, and says so', async () => {
    const { user, prefsChangedByAdministrator } = await setup();
    await user.click(box('Sound — Ticket assigned to me'));
    await user.click(box("Desktop — A ticket I'm watching is updated"));
    prefsChangedByAdministrator((p) => {
      p.events[0]!.locked = ['sound'];
      p.events[0]!.lock_reason = 'Loud floor';
      p.events[2]!.desktop = false;
    });
    expect((await screen.findByTestId('prefs-banner')).textContent).toContain('An administrator changed these settings');
    expect(box('Sound — Ticket assigned to me').checked).toBe(true);
    expect(box("Desktop — A ticket I'm watching is updated").checked).toBe(false);
    expect(box('Desktop — SLA deadline approaching').checked).toBe(false);
    expect(saveState()).toContain('unsaved');
  });

  it('shows a refusal of a locked channel at its row', async () => {
    const { backend, user } = await setup();
    backend.saveNotificationPrefs.mockRejectedValueOnce(
      failure('forbidden', 'an administrator has locked the email channel of ticket.assigned: SLA', 'events[0].email'),
    );
    await user.selectOptions(email('Ticket assigned to me'), 'weekly');
    await user.click(saveButton());
    const error = await within(row('ticket.assigned')).findByRole('alert');
    expect(error.textContent).toBe('An administrator has locked this for everyone; it was not changed.');
  });

  it('says the preferences are saved on this computer while the server is away', async () => {
    const { backend, user, changeOutbox } = await setup();
    changeOutbox({
      changes: [waitingChange(2, { kind: 'notification_prefs', prefs: {}, version: 1 })],
      reachable: false,
    });
    await user.click(box('Desktop — Ticket assigned to me'));
    await user.click(saveButton());
    await waitFor(() => expect(saveState().trim()).toBe('✓ Saved on this computer — will sync when the server is back'));
    expect(screen.queryByTestId('prefs-banner')).toBeNull();
    expect(box('Desktop — Ticket assigned to me').checked).toBe(false);
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
  });

  it('lists the settings a change replaced, and restores one', async () => {
    const { backend, user, changeOutbox } = await setup();
    changeOutbox({
      conflicts: [
        mergeConflict({ id: 5, target: 'prefs', field: 'events/ticket.assigned/email', replaced: 'digest', applied: 'off' }),
        mergeConflict({ id: 6, target: 'prefs', field: 'quiet_hours/enabled', replaced: true, applied: false }),
        mergeConflict({ id: 7, target: 'profile', field: 'job_title' }),
      ],
    });
    const list = await screen.findByTestId('prefs-conflicts');
    const items = within(list).getAllByRole('listitem');
    expect(items.map((item) => item.querySelector('.setting')?.textContent)).toEqual([
      'Email — Ticket assigned to me',
      'Quiet hours — Keep quiet during these hours',
    ]);
    expect(items[0]!.textContent).toContain('Replaced “Daily digest (09:00)” — your change was applied.');
    expect(items[1]!.textContent).toContain('Replaced “On” — your change was applied.');
    const calls = backend.notificationPrefs.mock.calls.length;
    await user.click(within(items[0]!).getByRole('button', { name: 'Restore the value your change replaced in Email — Ticket assigned to me' }));
    expect(backend.restoreReplaced).toHaveBeenCalledWith(5);
    await waitFor(() => expect(backend.notificationPrefs.mock.calls.length).toBe(calls + 1));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(1));
    await user.click(within(list).getByRole('button', { name: 'Keep your change to Quiet hours — Keep quiet during these hours' }));
    expect(backend.dismissConflict).toHaveBeenCalledWith(6);
    await waitFor(() => expect(screen.queryByTestId('prefs-conflicts')).toBeNull());
  });

  it('offers a retry when the preferences cannot be loaded', async () => {
    const fake = fakeBackend();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: null };
    fake.backend.notificationPrefs.mockRejectedValueOnce(offline);
    const alerts = new Alerts(fake.backend);
    stops.push(alerts.connect());
    render(Notifications, { backend: fake.backend, outbox: fake.connectOutbox(), alerts, timezone: null, onsessionended: vi.fn() });
    const problem = await screen.findByTestId('prefs-load-error');
    expect(problem.textContent).toContain("Couldn't load your notification preferences");
    await userEvent.setup().click(within(problem).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('prefs-table')).toBeTruthy();
    expect(screen.getByText(/in your profile's time zone/)).toBeTruthy();
  });

  it('speaks German', async () => {
    setLanguage('de');
    await setup();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Benachrichtigungen');
    expect(box('Desktop – Mir zugewiesenes Ticket').checked).toBe(true);
    expect(row('chat.all_offline').textContent).toContain('Nur die Administration kann das einschalten.');
  });
});

describe('away when idle', () => {
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
  });

  it('saves the choice at once, and Never as null', async () => {
    const { backend, user, alerts } = await setup();
    const select = screen.getByLabelText('Set me to Away') as HTMLSelectElement;
    expect(select.value).toBe('10');
    expect([...select.options].map((o) => o.textContent)).toEqual([
      'Never',
      'After 5 minutes without activity',
      'After 10 minutes without activity',
      'After 15 minutes without activity',
      'After 30 minutes without activity',
    ]);
    await user.selectOptions(select, '15');
    expect(backend.setIdleAway).toHaveBeenCalledWith(15);
    await waitFor(() => expect(screen.getByText('✓ Saved')).toBeTruthy());
    expect(alerts.state?.idle_away_minutes).toBe(15);
    await user.selectOptions(select, 'never');
    expect(backend.setIdleAway).toHaveBeenLastCalledWith(null);
    // Not part of the preferences form.
    expect(backend.saveNotificationPrefs).not.toHaveBeenCalled();
    expect(saveButton().disabled).toBe(true);
  });

  it('goes back to the saved choice when it is refused', async () => {
    const { backend, user } = await setup();
    const refusal: IpcError = { code: 'settings', message: 'disk full', field: null };
    backend.setIdleAway.mockRejectedValueOnce(refusal);
    const select = screen.getByLabelText('Set me to Away') as HTMLSelectElement;
    await user.selectOptions(select, '30');
    expect((await screen.findByTestId('idle-error')).textContent).toContain("The setting wasn't changed.");
    expect(select.value).toBe('10');
  });

  it('shows a time set elsewhere that is not among the choices', async () => {
    await setup({ alerts: { idle_away_minutes: 20 } });
    const select = screen.getByLabelText('Set me to Away') as HTMLSelectElement;
    expect(select.value).toBe('20');
    expect(select.selectedOptions[0]?.textContent).toBe('After 20 minutes without activity');
  });
});

describe('test notification', () => {
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
  });

  const failing = (problem: SelfTestProblem, detail: string): SelfTestReport => {
    const report = selfTestOk();
    const item = problem === 'no_sound_device' || problem === 'sound_failed' ? 'sound' : 'notification_service';
    report.checks = report.checks.map((check) => (check.item === item ? { item, problem, detail } : check));
    return report;
  };

  it('says everything works, part by part, and is busy meanwhile', async () => {
    const { backend, user } = await setup();
    const answer = pending<SelfTestReport>();
    backend.sendTestNotification.mockReturnValueOnce(answer.promise);
    const send = screen.getByTestId('send-test-notification');
    expect(send.textContent).toBe('Send test notification');
    await user.click(send);
    expect(send.getAttribute('aria-busy')).toBe('true');
    expect(send.textContent).toBe('Sending…');
    await user.click(send);
    expect(backend.sendTestNotification).toHaveBeenCalledTimes(1);
    answer.resolve(selfTestOk());
    await waitFor(() => expect(send.getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('self-test-summary').textContent).toContain('Everything works');
    const items = within(screen.getByTestId('self-test-report')).getAllByRole('listitem');
    expect(items.map((item) => [item.dataset.item, item.dataset.ok])).toEqual([
      ['notification_service', 'true'],
      ['notification_shown', 'true'],
      ['sound', 'true'],
    ]);
    expect(items[0]!.textContent).toContain('Notification service');
    expect(items[0]!.textContent).toContain('Works');
    expect(items[0]!.textContent).toContain('GNOME Shell 46.0');
    expect(screen.queryByTestId('self-test-problem')).toBeNull();
  });

  const explanations: [SelfTestProblem, string][] = [
    ['no_session_bus', 'This desktop session has no message bus'],
    [
      'no_notification_service',
      'No notification service is running on this desktop. Notifications will still appear in Recent alerts.',
    ],
    ['service_not_answering', "The desktop's notification service didn't answer in time."],
    ['permission_denied', 'Notifications are turned off for Agent Desk in the system settings.'],
    ['no_sound_device', 'There is no speaker or headset to play the alert sound on.'],
    ['sound_failed', "The alert sound couldn't be played on the chosen device."],
  ];

  it.each(explanations)('explains %s and what to do', async (problem, text) => {
    const { backend, user } = await setup();
    backend.sendTestNotification.mockResolvedValueOnce(failing(problem, `detail of ${problem}`));
    await user.click(screen.getByTestId('send-test-notification'));
    const explanation = await screen.findByTestId('self-test-problem');
    expect(explanation.textContent).toContain(text);
    const item = explanation.closest('li')!;
    expect(item.dataset.ok).toBe('false');
    expect(item.textContent).toContain('Not working');
    expect(item.textContent).toContain(`detail of ${problem}`);
    expect(screen.getByTestId('self-test-summary').textContent).toContain('Something is not working');
  });

  it('says when the test could not run at all', async () => {
    const { backend, user } = await setup();
    backend.sendTestNotification.mockRejectedValueOnce({ code: 'internal', message: 'boom', field: null });
    await user.click(screen.getByTestId('send-test-notification'));
    expect((await screen.findByTestId('self-test-error')).textContent).toBe(
      "The test couldn't run. Something went wrong. Try again in a moment.",
    );
  });
});

describe('recent alerts', () => {
  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
  });

  const recent = () => [
    alert({
      seq: 3,
      priority: 'critical',
      title: 'SLA breach in 10 minutes',
      type: 'ticket.sla_warning',
      outcome: 'held',
    }),
    alert({ seq: 2, priority: 'high', title: 'Ticket #1002 assigned to you', outcome: 'failed' }),
    alert({
      seq: 1,
      priority: 'low',
      title: 'Maintenance tonight',
      type: 'system.maintenance',
      url: null,
      read: true,
      body: null,
    }),
  ];

  it('lists them newest first with priority, what and when, unread ones marked', async () => {
    await setup({ alerts: { recent: recent() } });
    const items = within(screen.getByRole('list', { name: 'Recent alerts' })).getAllByRole('listitem');
    expect(items.map((item) => item.dataset.testid)).toEqual(['alert-3', 'alert-2', 'alert-1']);
    const [sla, assigned, maintenance] = items as [HTMLElement, HTMLElement, HTMLElement];
    expect(sla.textContent).toContain('Priority: Critical');
    expect(sla.textContent).toContain('Unread');
    expect(sla.textContent).toContain('SLA deadline approaching');
    expect(sla.dataset.read).toBe('false');
    expect(sla.querySelector('time')?.getAttribute('datetime')).toBe('2026-11-23T09:55:00Z');
    expect(within(sla).getByTestId('alert-outcome').textContent).toBe('Held back by your status or your quiet hours.');
    expect(within(assigned).getByTestId('alert-outcome').textContent).toContain("couldn't be shown");
    expect(assigned.textContent).toContain('Printer on floor 3 is out of toner');
    expect(maintenance.dataset.read).toBe('true');
    expect(maintenance.textContent).not.toContain('Unread');
    expect(within(maintenance).queryByRole('button')).toBeNull();
    expect(within(maintenance).queryByTestId('alert-outcome')).toBeNull();
  });

  it('opens an alert by click or Enter, which marks it read', async () => {
    const { backend, user, alerts } = await setup({ alerts: { recent: recent() } });
    // What opening makes of the alerts is core's answer: these opened, this many unread.
    const before = JSON.parse(JSON.stringify(alerts.state)) as AlertsState;
    const opened = (unread: number, ...seqs: number[]): AlertsState => ({
      ...before,
      recent: before.recent.map((item) => (seqs.includes(item.seq) ? { ...item, read: true } : item)),
      unread,
    });
    backend.openAlert.mockResolvedValueOnce(opened(1, 3)).mockResolvedValueOnce(opened(0, 3, 2));
    await user.click(within(screen.getByTestId('alert-3')).getByRole('button', { name: 'SLA breach in 10 minutes' }));
    expect(backend.openAlert).toHaveBeenCalledWith(3);
    await waitFor(() => expect(screen.getByTestId('alert-3').dataset.read).toBe('true'));
    expect(alerts.state?.unread).toBe(1);
    within(screen.getByTestId('alert-2')).getByRole('button').focus();
    await user.keyboard('{Enter}');
    expect(backend.openAlert).toHaveBeenLastCalledWith(2);
    await waitFor(() => expect(screen.getByTestId('alert-2').dataset.read).toBe('true'));
    expect(screen.getByRole('button', { name: 'Mark all as read' }).getAttribute('aria-disabled')).toBe('true');
  });

  it('says when an alert cannot be opened', async () => {
    const { backend, user } = await setup({ alerts: { recent: recent() } });
    backend.openAlert.mockRejectedValueOnce({ code: 'not_found', message: 'gone', field: null });
    await user.click(within(screen.getByTestId('alert-3')).getByRole('button'));
    expect((await screen.findByTestId('recent-error')).textContent).toContain("Couldn't open the alert.");
    expect(screen.getByTestId('alert-3').dataset.read).toBe('false');
  });

  it('marks all as read', async () => {
    const { backend, user, alerts } = await setup({ alerts: { recent: recent() } });
    expect(alerts.state?.unread).toBe(2);
    await user.click(screen.getByRole('button', { name: 'Mark all as read' }));
    expect(backend.markAlertsRead).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.getByTestId('alert-3').dataset.read).toBe('true'));
    expect(alerts.state?.unread).toBe(0);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Mark all as read' }));
    await user.click(screen.getByRole('button', { name: 'Mark all as read' }));
    expect(backend.markAlertsRead).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('button', { name: 'Mark all as read' }).getAttribute('aria-disabled')).toBe('true');
  });

  it('shows new alerts as they arrive, and says when there are none', async () => {
    const { receiveAlert } = await setup();
    expect(screen.getByTestId('recent-empty').textContent).toBe('No alerts yet. New ones show up here as they arrive.');
    receiveAlert(alert({ seq: 7, title: 'Customer replied on #1007' }));
    expect(await screen.findByTestId('alert-7')).toBeTruthy();
    expect(screen.queryByTestId('recent-empty')).toBeNull();
  });

  it('passes the accessibility check with alerts, preferences and a failed self-test', async () => {
    const { view, user, backend } = await setup({ alerts: { recent: recent() } });
    backend.sendTestNotification.mockResolvedValueOnce({
      checks: [
        {
          item: 'notification_service',
          problem: 'no_notification_service',
          detail: 'org.freedesktop.Notifications not owned',
        },
        { item: 'notification_shown', problem: 'no_notification_service', detail: '' },
        { item: 'sound', problem: null, detail: 'Built-in Speakers' },
      ],
    });
    await user.click(screen.getByTestId('send-test-notification'));
    await screen.findAllByTestId('self-test-problem');
    backend.saveNotificationPrefs.mockRejectedValueOnce({ code: 'forbidden', message: 'no', field: 'ticket.assigned' });
    await user.click(box('Sound — Ticket assigned to me'));
    await user.click(saveButton());
    await within(row('ticket.assigned')).findByRole('alert');
    await expectAccessible(view.container);
  });
});
