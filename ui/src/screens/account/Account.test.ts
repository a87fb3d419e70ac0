import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IpcError } from '../../lib/generated/IpcError';
import type { PasswordCheck } from '../../lib/generated/PasswordCheck';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { failure, fakeBackend, passwordCheck, rateLimited, sessions, sessionsEnded, signIns } from '../../test/fake-backend';
import Account from './Account.svelte';

const STRONG = 'Tangerine-Bicycle-42';
const PASSWORD = 'Old-password-1';

function setup() {
  const fake = fakeBackend();
  const onsignout = vi.fn();
  const onsessionended = vi.fn();
  const view = render(Account, {
    backend: fake.backend,
    onsignout,
    onsessionended,
  });
  return { ...fake, onsignout, onsessionended, view, user: userEvent.setup() };
}

const input = (label: RegExp) => screen.getByLabelText(label, { selector: 'input' }) as HTMLInputElement;
const currentField = () => input(/^Current password/);
const newField = () => input(/^New password/);
const submitButton = () => screen.getByRole('button', { name: 'Change password' }) as HTMLButtonElement;

/** The server's list once every other session has ended: this device alone. */
const onlyThisDevice = () => ({ sessions: sessions().filter((session) => session.current), recent_sign_ins: signIns() });

/** The checklist item of a rule: whether it is shown as met, by its text for screen readers. */
async function rule(text: string) {
  const list = await screen.findByRole('list', { name: 'Password requirements' });
  const item = within(list)
    .getAllByRole('listitem')
    .find((entry) => entry.textContent?.includes(text));
  if (!item) throw new Error(`no rule "${text}"`);
  return item.textContent?.includes('(met)') ? 'met' : 'unmet';
}

async function sessionItems() {
  return within(await screen.findByTestId('sessions')).getAllByRole('listitem');
}

describe('change password', () => {
  afterEach(() => setLanguage('en'));

  it("lists the policy's rules and ticks them as core answers for what is typed", async () => {
    const { backend, user } = setup();
    const list = await screen.findByRole('list', { name: 'Password requirements' });
    // Every rule but the upper length limit, which shows only once broken.
    expect((await within(list).findAllByRole('listitem')).map((item) => item.dataset.rule)).toEqual([
      'min_length',
      'uppercase',
      'lowercase',
      'digit',
      'symbol',
      'not_current',
      'not_guessable',
    ]);
    expect(await rule('At least 8 characters')).toBe('unmet');

    backend.checkPassword.mockResolvedValue(passwordCheck(['uppercase', 'digit', 'symbol', 'not_guessable'], 1));
    await user.type(newField(), 'tangerine');
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith('tangerine', null));
    await waitFor(async () => expect(await rule('A lower-case letter')).toBe('met'));
    expect(await rule('At least 8 characters')).toBe('met');
    expect(await rule('An upper-case letter')).toBe('unmet');
    expect(await rule('A digit')).toBe('unmet');
    expect(await rule('Hard to guess')).toBe('unmet');

    backend.checkPassword.mockResolvedValue(passwordCheck());
    await user.clear(newField());
    await user.type(newField(), STRONG);
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith(STRONG, null));
    for (const text of ['An upper-case letter', 'A digit', 'A symbol', 'Hard to guess']) {
      await waitFor(async () => expect(await rule(text)).toBe('met'));
    }
  });

  it('shows the upper length limit only once core says it is broken', async () => {
    const { backend, user } = setup();
    backend.checkPassword.mockResolvedValue(passwordCheck(['max_length', 'not_guessable'], 0));
    await user.click(newField());
    await user.paste('x'.repeat(129));
    await waitFor(async () => expect(await rule('At most 128 characters')).toBe('unmet'));
    expect(screen.getByTestId('strength').textContent).toBe('Very weak');
  });

  it('asks with the current password and shows the answer', async () => {
    const { backend, user } = setup();
    backend.checkPassword.mockResolvedValue(passwordCheck(['not_current']));
    await user.type(currentField(), STRONG);
    await user.type(newField(), STRONG);
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith(STRONG, STRONG));
    await waitFor(async () => expect(await rule('Different from your current password')).toBe('unmet'));
    backend.checkPassword.mockResolvedValue(passwordCheck(['not_guessable'], 1));
    await user.clear(newField());
    await user.type(newField(), 'Dana-Demo-2026!');
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith('Dana-Demo-2026!', STRONG));
    await waitFor(async () => expect(await rule('Different from your current password')).toBe('met'));
    expect(await rule('Hard to guess')).toBe('unmet');
  });

  it('ignores a late answer to an older input', async () => {
    const { backend, user } = setup();
    let answerFirst: (check: PasswordCheck) => void = () => {};
    backend.checkPassword.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    await user.type(newField(), 'a');
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith('a', null));
    await user.type(newField(), 'B');
    await waitFor(async () => expect(await rule('An upper-case letter')).toBe('met'));
    answerFirst(passwordCheck(['uppercase'], 0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await rule('An upper-case letter')).toBe('met');
  });

  it('asks once typing pauses, not for every key', async () => {
    const { backend, user } = setup();
    await user.type(newField(), STRONG);
    await waitFor(() => expect(backend.checkPassword).toHaveBeenLastCalledWith(STRONG, null));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(backend.checkPassword).toHaveBeenCalledTimes(1);
  });

  it('says when the server cannot check the password, and keeps the change blocked', async () => {
    const { backend, user, onsessionended } = setup();
    backend.checkPassword.mockRejectedValue(failure('server_unreachable', 'connection refused'));
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    expect((await screen.findByTestId('check-failure')).textContent).toMatch(/^The server could not check this password: /);
    expect(submitButton().disabled).toBe(true);
    expect(onsessionended).not.toHaveBeenCalled();

    backend.checkPassword.mockResolvedValue(passwordCheck());
    await user.type(newField(), '!');
    await waitFor(() => expect(screen.queryByTestId('check-failure')).toBeNull());
    await waitFor(() => expect(submitButton().disabled).toBe(false));

    backend.checkPassword.mockRejectedValue(failure('unauthorized', 'signed out'));
    await user.type(newField(), '!');
    await waitFor(() => expect(onsessionended).toHaveBeenCalled());
  });

  it('asks again by itself when the server was too busy to estimate', async () => {
    const { backend, user } = setup();
    backend.checkPassword.mockRejectedValueOnce(rateLimited(1));
    backend.checkPassword.mockResolvedValue(passwordCheck());
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await screen.findByTestId('check-failure');
    await waitFor(() => expect(submitButton().disabled).toBe(false), { timeout: 3000 });
    expect(screen.queryByTestId('check-failure')).toBeNull();
    expect(backend.checkPassword).toHaveBeenCalledTimes(2);
  });

  it('shows the strength core scores in words on a meter', async () => {
    const { backend, user } = setup();
    const strength = () => screen.getByTestId('strength').textContent;
    backend.checkPassword.mockResolvedValue(passwordCheck(['not_guessable'], 0));
    await user.type(newField(), 'abc');
    await waitFor(() => expect(strength()).toBe('Very weak'));
    backend.checkPassword.mockResolvedValue(passwordCheck([], 2));
    await user.type(newField(), 'defgh1!');
    await waitFor(() => expect(strength()).toBe('Fair'));
    backend.checkPassword.mockResolvedValue(passwordCheck([], 4));
    await user.clear(newField());
    await user.type(newField(), STRONG);
    await waitFor(() => expect(strength()).toBe('Very strong'));
    const meter = screen.getByRole('meter', { name: /Strength/ });
    expect(meter.getAttribute('value')).toBe('4');
    expect(meter.getAttribute('aria-valuetext')).toBe('Very strong');
  });

  it('blocks the change while core says a rule fails', async () => {
    const { backend, user } = setup();
    await user.type(currentField(), PASSWORD);
    backend.checkPassword.mockResolvedValue(passwordCheck(['digit', 'symbol'], 1));
    await user.type(newField(), 'Tangerine');
    await waitFor(async () => expect(await rule('At least 8 characters')).toBe('met'));
    expect(submitButton().disabled).toBe(true);
    backend.checkPassword.mockResolvedValue(passwordCheck());
    await user.type(newField(), '-Bicycle-42');
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    backend.checkPassword.mockResolvedValue(passwordCheck(['digit']));
    await user.type(newField(), '{Backspace}{Backspace}');
    await waitFor(() => expect(submitButton().disabled).toBe(true));
    await user.type(newField(), '{Enter}');
    expect(backend.changePassword).not.toHaveBeenCalled();
  });

  it('puts a wrong current password at its field', async () => {
    const { backend, user } = setup();
    backend.changePassword.mockRejectedValueOnce(
      failure('wrong_password', 'the current password is wrong', 'current_password'),
    );
    await user.type(currentField(), 'not-my-password');
    await user.type(newField(), STRONG);
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    const error = await screen.findByText('This is not your current password.');
    expect(currentField().getAttribute('aria-invalid')).toBe('true');
    expect(currentField().getAttribute('aria-describedby')).toContain(error.id);
    expect(newField().getAttribute('aria-invalid')).toBe('false');
    expect(document.activeElement).toBe(currentField());
    expect(backend.changePassword).toHaveBeenCalledWith('not-my-password', STRONG, false);
  });

  it('puts a refused new password at its field', async () => {
    const { backend, user } = setup();
    const refusal: IpcError = { code: 'password_rejected', message: 'breaks a rule', field: 'new_password' };
    backend.changePassword.mockRejectedValueOnce(refusal);
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    await screen.findByText(/The server refused this password/);
    expect(newField().getAttribute('aria-invalid')).toBe('true');
    expect(currentField().getAttribute('aria-invalid')).toBe('false');
  });

  it('says how long to wait when throttled', async () => {
    const { backend, user } = setup();
    backend.changePassword.mockRejectedValueOnce(rateLimited(42));
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    expect((await screen.findByTestId('password-banner')).textContent).toBe(
      'Too many attempts. Try again in 42 seconds.',
    );
  });

  it('changes the password, clears the fields and reports the sessions signed out', async () => {
    const { backend, user } = setup();
    expect(await sessionItems()).toHaveLength(3);
    backend.changePassword.mockResolvedValueOnce(sessionsEnded(2));
    backend.listSessions.mockResolvedValueOnce(onlyThisDevice());
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    const done = await screen.findByTestId('password-done');
    expect(done.textContent).toContain('Your password has been changed and 2 other sessions were signed out.');
    expect(document.activeElement).toBe(done);
    expect(backend.changePassword).toHaveBeenCalledWith(PASSWORD, STRONG, false);
    expect(currentField().value).toBe('');
    expect(newField().value).toBe('');
    // The list is reloaded and shows what the server lists now: only this device.
    await waitFor(() => expect(backend.listSessions).toHaveBeenCalledTimes(2));
    await waitFor(async () => expect(await sessionItems()).toHaveLength(1));
    expect((await sessionItems())[0]!.textContent).toContain('This device');
  });

  it('says so plainly when no other device was signed in', async () => {
    const { backend, user } = setup();
    backend.changePassword.mockResolvedValueOnce({ signed_out_sessions: 0 });
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    expect((await screen.findByTestId('password-done')).textContent?.trim()).toBe(
      '✓ Your password has been changed. No other device was signed in.',
    );
  });

  it('can keep the other devices signed in', async () => {
    const { backend, user } = setup();
    await user.type(currentField(), PASSWORD);
    await user.type(newField(), STRONG);
    await user.click(screen.getByLabelText('Keep me signed in on my other devices'));
    await waitFor(() => expect(submitButton().disabled).toBe(false));
    await user.click(submitButton());
    expect((await screen.findByTestId('password-done')).textContent).toContain('Your other devices stay signed in.');
    expect(backend.changePassword).toHaveBeenCalledWith(PASSWORD, STRONG, true);
    expect(await sessionItems()).toHaveLength(3);
  });

  it('shows and hides each password with a toggle button', async () => {
    const { user } = setup();
    const toggle = screen.getByRole('button', { name: 'Show new password' });
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(newField().type).toBe('password');
    await user.click(toggle);
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(newField().type).toBe('text');
    expect(currentField().type).toBe('password');
    toggle.focus();
    await user.keyboard('{Enter}');
    expect(newField().type).toBe('password');
    await user.click(screen.getByRole('button', { name: 'Show current password' }));
    expect(currentField().type).toBe('text');
  });
});

describe('sessions and sign-ins', () => {
  it('lists the sessions with this device marked and no sign-out on it', async () => {
    setup();
    const [current, laptop, unknown] = await sessionItems();
    expect(current!.textContent).toContain('Agent Desk 0.1.0');
    expect(current!.textContent).toContain('This device');
    expect(within(current!).queryByRole('button')).toBeNull();
    expect(laptop!.textContent).toContain('198.51.100.23');
    expect(laptop!.textContent).not.toContain('This device');
    expect(laptop!.querySelector('time')?.getAttribute('datetime')).toBe('2026-11-18T07:30:00Z');
    expect(unknown!.textContent).toContain('Unknown app');
    expect(within(laptop!).getByRole('button', { name: 'Sign out Agent Desk 0.0.9, 198.51.100.23' })).toBeTruthy();
  });

  it('signs out another session', async () => {
    const { backend, user } = setup();
    await sessionItems();
    await user.click(screen.getByRole('button', { name: 'Sign out Agent Desk 0.0.9, 198.51.100.23' }));
    const message = await screen.findByTestId('sessions-message');
    expect(message.textContent).toContain('Agent Desk 0.0.9, 198.51.100.23 has been signed out.');
    expect(backend.endSession).toHaveBeenCalledWith('session-laptop');
    const items = await sessionItems();
    expect(items).toHaveLength(2);
    expect(items.some((item) => item.textContent?.includes('198.51.100.23'))).toBe(false);
  });

  it('signs out all other sessions', async () => {
    const { backend, user } = setup();
    await sessionItems();
    backend.signOutOtherSessions.mockResolvedValueOnce(sessionsEnded(2));
    backend.listSessions.mockResolvedValueOnce(onlyThisDevice());
    const all = screen.getByRole('button', { name: 'Sign out all other sessions' }) as HTMLButtonElement;
    expect(all.disabled).toBe(false);
    await user.click(all);
    expect((await screen.findByTestId('sessions-message')).textContent).toContain(
      '2 other sessions have been signed out.',
    );
    expect(backend.signOutOtherSessions).toHaveBeenCalledTimes(1);
    expect(backend.signOutOtherSessions).toHaveBeenCalledWith();
    await waitFor(() => expect(backend.listSessions).toHaveBeenCalledTimes(2));
    expect(await sessionItems()).toHaveLength(1);
    expect(all.disabled).toBe(true);
    expect(screen.getByText('You are not signed in anywhere else.')).toBeTruthy();
  });

  it('shows a failure in an alert and keeps the session', async () => {
    const { backend, user } = setup();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    backend.endSession.mockRejectedValueOnce(offline);
    await sessionItems();
    await user.click(screen.getByRole('button', { name: /^Sign out Agent Desk 0\.0\.9/ }));
    expect((await screen.findByTestId('sessions-error')).textContent).toContain("Can't reach the server");
    expect(screen.getByTestId('sessions-error').getAttribute('role')).toBe('alert');
    expect(await sessionItems()).toHaveLength(3);
  });

  it('tells when the session list cannot be loaded', async () => {
    const fake = fakeBackend();
    const ended: IpcError = { code: 'unauthorized', message: 'token revoked', field: null };
    fake.backend.listSessions.mockRejectedValueOnce(ended);
    const onsessionended = vi.fn();
    render(Account, { backend: fake.backend, onsignout: vi.fn(), onsessionended });
    expect((await screen.findByTestId('sessions-load-error')).textContent).toContain('Your session has ended');
    expect(onsessionended).toHaveBeenCalled();
  });

  it('shows recent sign-ins with their outcome in words', async () => {
    setup();
    const table = await screen.findByRole('table', { name: 'Recent sign-ins' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getAllByRole('cell')[1]!.textContent).toContain('Succeeded');
    expect(rows[0]!.textContent).toContain('Agent Desk');
    expect(within(rows[1]!).getAllByRole('cell')[1]!.textContent).toContain('Failed');
    expect(rows[1]!.textContent).toContain('203.0.113.66');
    expect(rows[1]!.textContent).toContain('Unknown app');
  });

  it('signs out through the app', async () => {
    const { user, onsignout } = setup();
    const section = screen.getByRole('region', { name: 'Sign out of this device' });
    await user.click(within(section).getByRole('button', { name: 'Sign out' }));
    expect(onsignout).toHaveBeenCalledTimes(1);
  });

  it('speaks German', async () => {
    setLanguage('de');
    try {
      setup();
      expect(await screen.findByText('Kontosicherheit')).toBeTruthy();
      expect(await screen.findByText('Mindestens 8 Zeichen')).toBeTruthy();
      expect(screen.getByRole('button', { name: 'Alle anderen Sitzungen abmelden' })).toBeTruthy();
    } finally {
      setLanguage('en');
    }
  });

  it('passes the accessibility check', async () => {
    const { view, user, backend } = setup();
    await sessionItems();
    await screen.findByRole('table');
    backend.checkPassword.mockResolvedValue(passwordCheck(['min_length', 'not_guessable'], 0));
    await user.type(newField(), 'abc');
    await waitFor(() => expect(screen.getByTestId('strength').textContent).toBe('Very weak'));
    await expectAccessible(view.container);
  });
});
