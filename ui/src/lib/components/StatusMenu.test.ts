import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectAccessible } from '../../test/axe';
import { fakeBackend, profile, type FakeOptions } from '../../test/fake-backend';
import { Alerts } from '../alerts.svelte';
import type { IpcError } from '../generated/IpcError';
import { setLanguage } from '../i18n/index.svelte';
import { rfc3339 } from '../status';
import StatusMenu from './StatusMenu.svelte';

/** Monday 23 November 2026, 10:20:30 on this computer's clock. */
const NOW = new Date(2026, 10, 23, 10, 20, 30);

let stops: (() => void)[] = [];

async function setup(options: FakeOptions = {}) {
  const fake = fakeBackend(profile(), options);
  const alerts = new Alerts(fake.backend);
  stops.push(alerts.connect());
  const view = render(StatusMenu, { alerts, fallback: { status: 'available', until: null } });
  await waitFor(() => expect(alerts.state).not.toBeNull());
  return { ...fake, alerts, view, user: userEvent.setup() };
}

const button = () => screen.getByTestId('status-button');
const menu = () => screen.queryByRole('menu', { name: 'Set your status' });
const option = (status: string) => screen.getByTestId(`status-option-${status}`);

describe('status menu', () => {
  beforeEach(() => {
    // Only the clock: user-event's timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });

  afterEach(() => {
    for (const stop of stops) stop();
    stops = [];
    vi.useRealTimers();
    setLanguage('en');
  });

  it('shows the status in words beside its colour, with when it ends', async () => {
    const until = new Date(2026, 10, 23, 14, 0).toISOString();
    await setup({ alerts: { status: { status: 'dnd', until } } });
    expect(button().dataset.status).toBe('dnd');
    expect(button().textContent).toContain('Do not disturb');
    expect(button().querySelector('.dot-dnd')?.getAttribute('aria-hidden')).toBe('true');
    expect(screen.getByRole('button', { name: /^Your status: Do not disturb until/ })).toBe(button());
    expect(screen.getByTestId('status-until').textContent).toBe('until 2:00 PM');
    setLanguage('de');
    await waitFor(() => expect(screen.getByTestId('status-until').textContent).toBe('bis 14:00'));
    expect(button().getAttribute('aria-expanded')).toBe('false');
  });

  it('says when Away was set because the computer is idle', async () => {
    const { emitAlerts } = await setup();
    expect(screen.queryByTestId('status-idle')).toBeNull();
    emitAlerts({ status: { status: 'away', until: null }, automatic_away: true });
    await waitFor(() => expect(button().textContent).toContain('Away'));
    expect(screen.getByTestId('status-idle').textContent).toBe('(idle)');
  });

  it('sets a status until changed, closes and gives the focus back', async () => {
    const { backend, user } = await setup();
    await user.click(button());
    expect(menu()).not.toBeNull();
    expect(button().getAttribute('aria-expanded')).toBe('true');
    expect(option('available').getAttribute('aria-checked')).toBe('true');
    await user.click(option('busy'));
    expect(backend.setStatus).toHaveBeenCalledWith('busy', null);
    await waitFor(() => expect(button().textContent).toContain('Busy'));
    expect(menu()).toBeNull();
    expect(document.activeElement).toBe(button());
  });

  it('sets a status for an hour, or until the end of today, and Available for good', async () => {
    const { backend, user } = await setup();
    await user.click(button());
    await user.selectOptions(screen.getByLabelText('For how long'), '1h');
    await user.click(option('dnd'));
    expect(backend.setStatus).toHaveBeenLastCalledWith('dnd', rfc3339(new Date(NOW.getTime() + 3_600_000)));
    await waitFor(() => expect(screen.getByTestId('status-until')).toBeTruthy());

    await user.click(button());
    expect((screen.getByLabelText('For how long') as HTMLSelectElement).value).toBe('none');
    await user.selectOptions(screen.getByLabelText('For how long'), 'today');
    await user.click(option('away'));
    expect(backend.setStatus).toHaveBeenLastCalledWith('away', rfc3339(new Date(2026, 10, 23, 23, 59)));

    await user.click(button());
    await user.selectOptions(screen.getByLabelText('For how long'), '30m');
    await user.click(option('available'));
    expect(backend.setStatus).toHaveBeenLastCalledWith('available', null);
    await waitFor(() => expect(screen.queryByTestId('status-until')).toBeNull());
  });

  it('asks for the time of a custom end before setting anything', async () => {
    const { backend, user } = await setup();
    await user.click(button());
    await user.selectOptions(screen.getByLabelText('For how long'), 'custom');
    const clock = screen.getByLabelText('Ends at') as HTMLInputElement;
    expect(clock.type).toBe('time');
    await user.click(option('busy'));
    expect(backend.setStatus).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toBe('Enter the time your status should end.');
    expect(document.activeElement).toBe(clock);
    await fireEvent.input(clock, { target: { value: '14:30' } });
    await user.click(option('busy'));
    expect(backend.setStatus).toHaveBeenCalledWith('busy', rfc3339(new Date(2026, 10, 23, 14, 30)));
  });

  it('works from the keyboard: arrows, Home and End, Enter, Escape', async () => {
    const { backend, user } = await setup();
    button().focus();
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(option('available'));
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(option('busy'));
    await user.keyboard('{End}');
    expect(document.activeElement).toBe(option('offline'));
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(option('available'));
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(document.activeElement).toBe(option('dnd'));
    // Only the focused item is in the tab order.
    expect(within(menu()!).getAllByRole('menuitemradio').map((item) => item.tabIndex)).toEqual([-1, -1, -1, 0, -1]);
    await user.keyboard('{Escape}');
    expect(menu()).toBeNull();
    expect(document.activeElement).toBe(button());
    expect(backend.setStatus).not.toHaveBeenCalled();

    await user.keyboard('{Enter}');
    expect(document.activeElement).toBe(option('available'));
    await user.keyboard('{Home}{ArrowDown}{ArrowDown}{Enter}');
    expect(backend.setStatus).toHaveBeenCalledWith('away', null);
    expect(document.activeElement).toBe(button());
  });

  it('reaches "For how long" with Tab and closes with Escape from there', async () => {
    const { user } = await setup();
    await user.click(button());
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText('For how long'));
    await user.keyboard('{Escape}');
    expect(menu()).toBeNull();
    expect(document.activeElement).toBe(button());
  });

  it('closes when clicked outside', async () => {
    const { user } = await setup();
    await user.click(button());
    expect(menu()).not.toBeNull();
    await user.click(document.body);
    expect(menu()).toBeNull();
  });

  it('says why a status was not set, next to the control', async () => {
    const { backend, user } = await setup();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: null };
    backend.setStatus.mockRejectedValueOnce(offline);
    await user.click(button());
    await user.click(option('busy'));
    const error = await screen.findByTestId('status-error');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.textContent).toContain("Your status wasn't changed. Can't reach the server.");
    expect(button().textContent).toContain('Available');
    await user.click(within(error).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('status-error')).toBeNull();
  });

  it('says when the chosen end had passed by the time it reached the server', async () => {
    const { backend, user } = await setup();
    const late: IpcError = { code: 'validation_failed', message: 'until must be in the future', field: 'until' };
    backend.setStatus.mockRejectedValueOnce(late);
    await user.click(button());
    await user.selectOptions(screen.getByLabelText('For how long'), '30m');
    await user.click(option('away'));
    expect((await screen.findByTestId('status-error')).textContent).toContain(
      "Your status wasn't changed. Choose an end in the future.",
    );
  });

  it('passes the accessibility check with the menu open', async () => {
    const { view, user } = await setup({ alerts: { status: { status: 'busy', until: null } } });
    await user.click(button());
    await user.selectOptions(screen.getByLabelText('For how long'), 'custom');
    await expectAccessible(view.container);
  });
});
