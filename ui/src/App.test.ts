import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { IpcError } from './lib/generated/IpcError';
import { errorMessage } from './lib/i18n/index.svelte';
import { expectAccessible } from './test/axe';
import {
  alert,
  fakeBackend,
  imageFile,
  photoData,
  profile,
  refusedChange,
  waitingChange,
  type FakeOptions,
} from './test/fake-backend';

describe('app shell', () => {
  it('restores the session straight into the profile', async () => {
    const { backend } = fakeBackend();
    const view = render(App, { backend });
    expect(await screen.findByText('Your profile')).toBeTruthy();
    expect(screen.getByTestId('header-name').textContent).toBe('Dana Demo');
    await expectAccessible(view.container);
  });

  it('uses the restore asked for at launch once, and asks again on a retry', async () => {
    const { backend } = fakeBackend();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    render(App, { backend, restoring: Promise.reject(offline) });
    const retry = await screen.findByRole('button', { name: 'Try again' });
    expect(backend.restoreSession).not.toHaveBeenCalled();
    await userEvent.setup().click(retry);
    expect(await screen.findByText('Your profile')).toBeTruthy();
    expect(backend.restoreSession).toHaveBeenCalledTimes(1);
  });

  it('shows sign-in when there is no session', async () => {
    const { backend } = fakeBackend();
    backend.restoreSession.mockResolvedValueOnce(null);
    render(App, { backend });
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect((screen.getByLabelText(/Server address/) as HTMLInputElement).value).toBe('http://127.0.0.1:8787/');
  });

  it('offers a retry when the server cannot be reached at start', async () => {
    const { backend } = fakeBackend();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    backend.restoreSession.mockRejectedValueOnce(offline);
    const view = render(App, { backend });
    const retry = await screen.findByRole('button', { name: 'Try again' });
    expect(screen.getByRole('alert').textContent).toContain("Can't reach the server");
    await expectAccessible(view.container);
    await userEvent.setup().click(retry);
    expect(await screen.findByText('Your profile')).toBeTruthy();
  });

  it('asks for another address, not a retry, when the saved one is plain http to another computer', async () => {
    const { backend } = fakeBackend();
    const insecure: IpcError = {
      code: 'insecure_server_url',
      message: 'http:// is only for this computer',
      field: 'server_url',
    };
    backend.restoreSession.mockRejectedValueOnce(insecure);
    render(App, { backend });
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull();
    expect(document.body.textContent).toContain(errorMessage(insecure));
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    // The agent did not ask to leave: nothing waiting to be sent is deleted.
    expect(backend.signOut).toHaveBeenCalledWith('keep');
  });

  it('asks before signing out with unsaved changes', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    const view = render(App, { backend });
    const title = (await screen.findByLabelText(/Job title/)) as HTMLInputElement;
    await user.type(title, ' II');
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('Discard unsaved changes?')).toBeTruthy();
    await expectAccessible(view.container);
    await user.click(screen.getByRole('button', { name: 'Keep editing' }));
    expect(backend.signOut).not.toHaveBeenCalled();
    expect(title.value).toBe('Support Specialist II');
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await user.click(await screen.findByRole('button', { name: 'Discard and sign out' }));
    await waitFor(() => expect(backend.signOut).toHaveBeenCalled());
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
  });

  it('offers the server and email last used after signing out', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend });
    await screen.findByText('Your profile');
    // Signing in wrote them to the settings the backend reads.
    backend.appInfo.mockResolvedValue({
      version: '0.1.0',
      server_url: 'https://desk.example.com/',
      email: 'dana@agentdesk.example',
    });
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect((screen.getByLabelText(/Server address/) as HTMLInputElement).value).toBe('https://desk.example.com/');
    expect((screen.getByLabelText(/^Email/) as HTMLInputElement).value).toBe('dana@agentdesk.example');
  });
});

describe('header avatar', () => {
  it('shows initials, then the new photo once saved, fetched once for header and profile', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    const view = render(App, { backend });
    await waitFor(() => expect(screen.getByTestId('header-avatar').textContent?.trim()).toBe('DD'));
    expect(screen.getByTestId('header-avatar').getAttribute('aria-hidden')).toBe('true');
    await screen.findByText(/up to 5 MB/);
    await user.upload(document.getElementById('photo-file') as HTMLInputElement, imageFile('me.png'));
    await user.click(await screen.findByRole('button', { name: 'Save photo' }));
    const url = '/api/v1/avatars/photo-1';
    await waitFor(() => expect(screen.getByTestId('header-avatar').getAttribute('src')).toBe(photoData(url)));
    expect(screen.getByTestId('avatar-image').getAttribute('src')).toBe(photoData(url));
    expect(screen.getByTestId('header-avatar').getAttribute('alt')).toBe('');
    expect(backend.avatarImage).toHaveBeenCalledTimes(1);
    await expectAccessible(view.container);

    // The photo is part of the saved profile the shell keeps.
    await user.click(screen.getByRole('button', { name: 'Account' }));
    await screen.findByText('Account security');
    expect(screen.getByTestId('header-avatar').getAttribute('src')).toBe(photoData(url));
  });

  it('keeps a file dropped outside the photo from replacing the app', async () => {
    const { backend } = fakeBackend();
    render(App, { backend });
    await screen.findByText(/up to 5 MB/);
    const files = { files: [imageFile('me.png')], types: ['Files'] };
    expect(await fireEvent.drop(screen.getByTestId('header-name'), { dataTransfer: files })).toBe(false);
    expect(backend.prepareAvatar).not.toHaveBeenCalled();
  });

    it('loads the photo of a restored session', async () => {
    const { backend } = fakeBackend(profile({ avatar_url: '/api/v1/avatars/photo-0' }));
    render(App, { backend });
    await waitFor(() =>
      expect(screen.getByTestId('header-avatar').getAttribute('src')).toBe(photoData('/api/v1/avatars/photo-0')),
    );
  });
});

describe('navigation', () => {
  it('switches between Profile and Account with the current page marked', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    const view = render(App, { backend });
    const nav = await screen.findByRole('navigation', { name: 'Sections' });
    const profileLink = within(nav).getByRole('button', { name: 'Profile' });
    const accountLink = within(nav).getByRole('button', { name: 'Account' });
    expect(profileLink.getAttribute('aria-current')).toBe('page');
    expect(accountLink.getAttribute('aria-current')).toBeNull();
    accountLink.focus();
    await user.keyboard('{Enter}');
    const title = await screen.findByRole('heading', { level: 1, name: 'Account security' });
    await waitFor(() => expect(document.activeElement).toBe(title));
    expect(accountLink.getAttribute('aria-current')).toBe('page');
    expect(profileLink.getAttribute('aria-current')).toBeNull();
    expect(screen.queryByText('Your profile')).toBeNull();
    await screen.findByTestId('sessions');
    await expectAccessible(view.container);
    await user.click(profileLink);
    expect(await screen.findByText('Your profile')).toBeTruthy();
  });

  it('offers Devices right after Profile and opens it without waiting for the devices to be listed', async () => {
    const { backend } = fakeBackend();
    backend.audioState.mockReturnValueOnce(new Promise(() => {}));
    const user = userEvent.setup();
    const view = render(App, { backend });
    const nav = await screen.findByRole('navigation', { name: 'Sections' });
    expect(within(nav).getAllByRole('button').map((link) => link.id)).toEqual([
      'nav-profile',
      'nav-devices',
      'nav-notifications',
      'nav-people',
      'nav-teams',
      'nav-privacy',
      'nav-account',
    ]);
    await user.click(within(nav).getByRole('button', { name: 'Devices' }));
    const title = await screen.findByRole('heading', { level: 1, name: 'Devices' });
    expect(title.id).toBe('devices-title');
    await waitFor(() => expect(document.activeElement).toBe(title));
    expect(document.getElementById('nav-devices')?.getAttribute('aria-current')).toBe('page');
    expect(screen.getByTestId('devices-loading').textContent).toContain('Looking for devices…');
    await expectAccessible(view.container);

    // The rest of the app goes on working while the devices are listed.
    await user.click(within(nav).getByRole('button', { name: 'Account' }));
    expect(await screen.findByText('Account security')).toBeTruthy();
    await user.click(within(nav).getByRole('button', { name: 'Devices' }));
    expect(await screen.findByRole('combobox', { name: 'Microphone' })).toBeTruthy();
  });

  it('offers Administration to administrators only, and leaves it when the role is taken away', async () => {
    const user = userEvent.setup();
    const agent = fakeBackend();
    const view = render(App, { backend: agent.backend });
    await screen.findByRole('navigation', { name: 'Sections' });
    expect(document.getElementById('nav-admin')).toBeNull();
    view.unmount();

    const admin = fakeBackend(profile({ is_admin: true }));
    render(App, { backend: admin.backend });
    const nav = await screen.findByRole('navigation', { name: 'Sections' });
    await user.click(within(nav).getByRole('button', { name: 'Administration' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Administration' })).toBeTruthy();
    expect(await screen.findByTestId('admin-agents')).toBeTruthy();

    admin.profileChangedElsewhere({ is_admin: false });
    await waitFor(() => expect(document.getElementById('nav-admin')).toBeNull());
    expect(screen.queryByRole('heading', { level: 1, name: 'Administration' })).toBeNull();
    expect(document.getElementById('nav-profile')?.getAttribute('aria-current')).toBe('page');
  });

  it('stops the microphone test when the agent leaves the Devices screen', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await user.click(await screen.findByRole('button', { name: 'Devices' }));
    await user.click(await screen.findByRole('button', { name: 'Test microphone' }));
    await waitFor(() => expect(fake.micTestRunning()).toBe(true));
    await user.click(screen.getByRole('button', { name: 'Profile' }));
    expect(await screen.findByText('Your profile')).toBeTruthy();
    expect(fake.backend.stopMicTest).toHaveBeenCalledTimes(1);
    expect(fake.micTestRunning()).toBe(false);
  });

  it('asks before leaving the profile with unsaved changes', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend });
    const title = (await screen.findByLabelText(/Job title/)) as HTMLInputElement;
    await user.type(title, ' II');
    await user.click(screen.getByRole('button', { name: 'Account' }));
    expect(await screen.findByText('Discard unsaved changes?')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Keep editing' }));
    expect(screen.queryByText('Account security')).toBeNull();
    expect(title.value).toBe('Support Specialist II');

    await user.click(screen.getByRole('button', { name: 'Account' }));
    await user.click(await screen.findByRole('button', { name: 'Discard and open Account' }));
    expect(await screen.findByText('Account security')).toBeTruthy();
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);

    // Nothing is pending any more: back to the profile without a question, the edit gone.
    await user.click(screen.getByRole('button', { name: 'Profile' }));
    expect(((await screen.findByLabelText(/Job title/)) as HTMLInputElement).value).toBe('Support Specialist');
    expect(screen.queryByText('Discard unsaved changes?')).toBeNull();
    expect(backend.updateProfile).not.toHaveBeenCalled();
  });

  it('does not keep typed passwords when the agent leaves the account screen', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend });
    await user.click(await screen.findByRole('button', { name: 'Account' }));
    const current = () => screen.getByLabelText(/^Current password/, { selector: 'input' }) as HTMLInputElement;
    await user.type(await screen.findByLabelText(/^Current password/, { selector: 'input' }), 'Old-password-1');
    expect(current().value).toBe('Old-password-1');
    await user.click(screen.getByRole('button', { name: 'Profile' }));
    await screen.findByText('Your profile');
    await user.click(screen.getByRole('button', { name: 'Account' }));
    expect((await screen.findByLabelText(/^Current password/, { selector: 'input' }) as HTMLInputElement).value).toBe('');
  });

  it('signs out here too when the server ended the session, and says why', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend });
    await user.click(await screen.findByRole('button', { name: 'Account' }));
    await screen.findByTestId('sessions');
    await user.type(screen.getByLabelText(/^New password/, { selector: 'input' }), 'Secret-1!');
    const ended: IpcError = { code: 'unauthorized', message: 'token revoked', field: null };
    backend.listSessions.mockRejectedValueOnce(ended);
    await user.click(screen.getByRole('button', { name: 'Sign out all other sessions' }));
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('signin-notice').textContent).toMatch(/^You were signed out: your session was ended on the server/);
    expect(screen.queryByDisplayValue('Secret-1!')).toBeNull();
    expect(screen.queryByText('Dana Demo')).toBeNull();
  });

  it('goes to sign-in with a notice when the server ends the session', async () => {
    const fake = fakeBackend();
    const view = render(App, { backend: fake.backend });
    expect(await screen.findByText('Your profile')).toBeTruthy();
    await waitFor(() => expect(fake.sessionEndedListeners()).toBe(1));
    fake.endSessionOnServer();
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(fake.backend.signOut).toHaveBeenCalledTimes(1);
    const notice = screen.getByTestId('signin-notice').textContent ?? '';
    expect(notice).toBe(
      'You were signed out: your session was ended on the server — signed out from another device, or your password was changed or reset. Sign in again to continue.',
    );
    expect(screen.queryByTestId('header-name')).toBeNull();
    await expectAccessible(view.container);
  });

  it('says unsaved edits are lost when the server ends the session, without asking first', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    const title = (await screen.findByLabelText(/Job title/)) as HTMLInputElement;
    await user.type(title, ' II');
    await waitFor(() => expect(fake.backend.setUnsavedChanges).toHaveBeenLastCalledWith(true));
    fake.endSessionOnServer();
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(screen.queryByText('Discard unsaved changes?')).toBeNull();
    expect(screen.getByTestId('signin-notice').textContent).toContain(
      'The changes you had not saved are lost: the server no longer accepts them.',
    );
    expect(fake.backend.updateProfile).not.toHaveBeenCalled();
    expect(screen.queryByDisplayValue('Support Specialist II')).toBeNull();
  });

  it('says it in German too, and ignores the news once signed out', async () => {
    const fake = fakeBackend(profile({ language: 'de' }));
    render(App, { backend: fake.backend });
    expect(await screen.findByText('Dein Profil')).toBeTruthy();
    await waitFor(() => expect(fake.sessionEndedListeners()).toBe(1));
    fake.endSessionOnServer();
    await waitFor(() => expect(screen.getByTestId('signin-notice').textContent).toMatch(/^Du wurdest abgemeldet:/));
    fake.endSessionOnServer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.backend.signOut).toHaveBeenCalledTimes(1);
  });

  it('signs out from the account screen like from the header', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend });
    await user.click(await screen.findByRole('button', { name: 'Account' }));
    await screen.findByTestId('sessions');
    await user.type(screen.getByLabelText(/^New password/, { selector: 'input' }), 'Secret-1!');
    const section = screen.getByRole('region', { name: 'Sign out of this device' });
    await user.click(within(section).getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    expect(screen.queryByText('Account security')).toBeNull();
    expect(screen.queryByText('198.51.100.23')).toBeNull();
    expect(screen.queryByDisplayValue('Secret-1!')).toBeNull();
  });
});

describe('quitting', () => {
  it('asks first when there are unsaved changes, then quits discarding them', async () => {
    const { backend } = fakeBackend();
    let requestQuit: () => void = () => {};
    backend.onQuitRequested.mockImplementation(async (handler) => {
      requestQuit = handler;
      return () => {};
    });
    const user = userEvent.setup();
    render(App, { backend });
    await user.type(await screen.findByLabelText(/Job title/), ' II');
    requestQuit();
    await user.click(await screen.findByRole('button', { name: 'Discard and quit' }));
    expect(backend.quitDiscardingChanges).toHaveBeenCalledTimes(1);
  });
});

describe('status and alerts in the shell', () => {
  it('shows the status control in the header, with its menu accessible when open', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    const view = render(App, { backend });
    const status = await screen.findByTestId('status-button');
    expect(status.textContent).toContain('Available');
    await user.click(status);
    expect(screen.getByRole('menu', { name: 'Set your status' })).toBeTruthy();
    await expectAccessible(view.container);
    await user.click(screen.getByTestId('status-option-busy'));
    expect(backend.setStatus).toHaveBeenCalledWith('busy', null);
    await waitFor(() => expect(screen.getByTestId('status-button').textContent).toContain('Busy'));
  });

  it('counts unread alerts on the Notifications link, live', async () => {
    const fake = fakeBackend(profile(), { alerts: { recent: [alert({ seq: 2 }), alert({ seq: 1, read: true })] } });
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    const link = await screen.findByRole('button', { name: 'Notifications, 1 unread' });
    expect(link.id).toBe('nav-notifications');
    expect(screen.getByTestId('unread-badge').textContent).toBe('1');
    expect(screen.getByTestId('unread-badge').getAttribute('aria-hidden')).toBe('true');

    fake.receiveAlert(alert({ seq: 3 }));
    await waitFor(() => expect(link.textContent).toContain('2 unread'));
    expect(screen.getByTestId('unread-badge').textContent).toBe('2');

    await user.click(link);
    await screen.findByRole('heading', { level: 1, name: 'Notifications' });
    await user.click(screen.getByRole('button', { name: 'Mark all as read' }));
    await waitFor(() => expect(screen.queryByTestId('unread-badge')).toBeNull());
    expect(screen.getByRole('button', { name: 'Notifications' }).id).toBe('nav-notifications');
  });

  it('says when the alerts are not connected', async () => {
    const fake = fakeBackend();
    render(App, { backend: fake.backend });
    const hint = await screen.findByTestId('connection');
    await waitFor(() => expect(fake.backend.alertsState).toHaveBeenCalled());
    expect(hint.getAttribute('role')).toBe('status');
    expect(hint.textContent?.trim()).toBe('');
    fake.emitAlerts({ connection: 'offline' });
    await waitFor(() =>
      expect(hint.textContent?.trim()).toBe('Offline — alerts will arrive when the connection is back'),
    );
    fake.emitAlerts({ connection: 'connecting' });
    await waitFor(() => expect(hint.textContent?.trim()).toBe('Reconnecting…'));
    fake.emitAlerts({ connection: 'connected' });
    await waitFor(() => expect(hint.textContent?.trim()).toBe(''));
  });

  it('opens Notifications after Devices and asks before leaving unsaved preferences', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    const view = render(App, { backend });
    await user.click(await screen.findByRole('button', { name: 'Notifications' }));
    const title = await screen.findByRole('heading', { level: 1, name: 'Notifications' });
    expect(title.id).toBe('notifications-title');
    await waitFor(() => expect(document.activeElement).toBe(title));
    const desktop = (await screen.findByRole('checkbox', { name: 'Desktop — Ticket assigned to me' })) as HTMLInputElement;
    await expectAccessible(view.container);
    await user.click(desktop);
    await user.click(screen.getByRole('button', { name: 'Profile' }));
    expect(await screen.findByText('Discard unsaved changes?')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Keep editing' }));
    expect(desktop.checked).toBe(false);
    await user.click(screen.getByRole('button', { name: 'Profile' }));
    await user.click(await screen.findByRole('button', { name: 'Discard and open Profile' }));
    expect(await screen.findByText('Your profile')).toBeTruthy();
    expect(backend.saveNotificationPrefs).not.toHaveBeenCalled();
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
  });

  it('stops following alerts when signed out', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await screen.findByTestId('status-button');
    await waitFor(() => expect(fake.alertsListeners()).toBe(1));
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByText('Sign in to Agent Desk');
    expect(fake.alertsListeners()).toBe(0);
    expect(screen.queryByTestId('status-button')).toBeNull();
    await user.type(screen.getByLabelText(/^Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/^Password/), 'Old-password-1');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByTestId('status-button')).toBeTruthy();
    await waitFor(() => expect(fake.alertsListeners()).toBe(1));
    expect(fake.backend.alertsState).toHaveBeenCalledTimes(2);
  });
});

describe('profile changed elsewhere', () => {
  const input = (label: RegExp) => screen.getByLabelText(label) as HTMLInputElement;

  it('shows the new profile in the header and the form, and saves on its version', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await screen.findByText('Your profile');
    fake.profileChangedElsewhere({ display_name: 'Dana Doe', department: 'Billing' });
    await waitFor(() => expect(screen.getByTestId('header-name').textContent).toBe('Dana Doe'));
    expect(input(/Display name/).value).toBe('Dana Doe');
    expect(input(/Department/).value).toBe('Billing');
    expect(screen.queryByTestId('profile-banner')).toBeNull();
    expect(screen.getByTestId('save-state').textContent?.trim()).toBe('');

    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(fake.backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Team Lead' }, '"2"');
    expect(screen.queryByTestId('profile-banner')).toBeNull();
  });

  it('keeps unsaved edits, takes the other new values and says so', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await user.type(await screen.findByLabelText(/Job title/), ' II');
    fake.profileChangedElsewhere({ job_title: 'Intern', department: 'Billing', display_name: 'Dana Doe' });
    const banner = await screen.findByTestId('profile-banner');
    expect(banner.textContent?.trim()).toBe('Your profile was changed on another device; your unsaved edits are kept.');
    expect(input(/Job title/).value).toBe('Support Specialist II');
    expect(input(/Department/).value).toBe('Billing');
    expect(input(/Display name/).value).toBe('Dana Doe');
    expect(screen.getByTestId('header-name').textContent).toBe('Dana Doe');
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(fake.backend.updateProfile).toHaveBeenCalledTimes(1);
    expect(fake.backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Support Specialist II' }, '"2"');
  });

  it('takes the echo of its own save, arriving before the answer, as nothing new', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await screen.findByText('Your profile');
    const echo = fake.backend.onProfileChanged.mock.calls[0]![0];
    const update = fake.backend.updateProfile.getMockImplementation()!;
    fake.backend.updateProfile.mockImplementationOnce(async (patch, etag) => {
      const saved = await update(patch, etag);
      echo(structuredClone(saved));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return saved;
    });
    await user.type(screen.getByLabelText(/Job title/), ' II');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(screen.queryByTestId('profile-banner')).toBeNull();
    expect(input(/Job title/).value).toBe('Support Specialist II');
    await user.type(screen.getByLabelText(/Job title/), 'I');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(fake.backend.updateProfile).toHaveBeenLastCalledWith({ job_title: 'Support Specialist III' }, '"2"'),
    );
  });

  it('does not warn about a change of the status alone', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await user.type(await screen.findByLabelText(/Job title/), ' II');
    fake.profileChangedElsewhere({ status: 'busy' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.queryByTestId('profile-banner')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(fake.backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Support Specialist II' }, '"2"');
    expect(screen.queryByTestId('profile-banner')).toBeNull();
  });

  it('switches the language when it was changed elsewhere', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(App, { backend: fake.backend });
    await user.click(await screen.findByRole('button', { name: 'Devices' }));
    await screen.findByRole('heading', { level: 1, name: 'Devices' });
    fake.profileChangedElsewhere({ language: 'de' });
    expect(await screen.findByRole('button', { name: 'Profil' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Profil' }));
    expect(await screen.findByText('Dein Profil')).toBeTruthy();
    fake.profileChangedElsewhere({ language: 'en' });
    expect(await screen.findByText('Your profile')).toBeTruthy();
  });

  it('ignores a change of another account', async () => {
    const fake = fakeBackend();
    render(App, { backend: fake.backend });
    await screen.findByText('Your profile');
    const handler = fake.backend.onProfileChanged.mock.calls[0]![0];
    handler({ profile: profile({ id: 'agent-2', display_name: 'Someone Else' }), etag: '"9"' });
    await Promise.resolve();
    expect(screen.getByTestId('header-name').textContent).toBe('Dana Demo');
  });
});

describe('agentdesk:// links', () => {
  it("opens a person's record from a link, after signing in", async () => {
    const { backend } = fakeBackend();
    backend.takeLink.mockResolvedValueOnce({ outcome: 'open', link: { kind: 'person', id: 'agent-4' } });
    render(App, { backend });
    const record = await screen.findByTestId('person-record');
    expect(record.getAttribute('data-person')).toBe('agent-4');
    expect(backend.getPerson).toHaveBeenCalledWith('agent-4');
    expect(within(record).getByRole('heading', { name: 'Kim Keen' })).toBeTruthy();
  });

  it('sets a status from a link only once the agent confirms', async () => {
    const { backend } = fakeBackend();
    backend.takeLink.mockResolvedValueOnce({ outcome: 'open', link: { kind: 'status', status: 'dnd' } });
    const user = userEvent.setup();
    render(App, { backend });
    const keep = await screen.findByRole('button', { name: 'Keep my status' });
    await user.click(keep);
    expect(backend.setStatus).not.toHaveBeenCalled();

    // Another link while the app is open.
    backend.takeLink.mockResolvedValueOnce({ outcome: 'open', link: { kind: 'status', status: 'dnd' } });
    const arrived = backend.onLinkArrived.mock.calls[0]?.[0];
    expect(arrived).toBeTypeOf('function');
    arrived?.();
    await user.click(await screen.findByRole('button', { name: 'Set Do not disturb' }));
    expect(backend.setStatus).toHaveBeenCalledWith('dnd', null);
  });

  it('says why a link was refused, and does nothing else', async () => {
    const { backend } = fakeBackend();
    backend.takeLink.mockResolvedValueOnce({
      outcome: 'refused',
      link: 'agentdesk://settings',
      why: { code: 'unknown_place', part: 'settings' },
    });
    render(App, { backend });
    const notice = await screen.findByTestId('notice');
    expect(notice.textContent).toBe(
      'A link wasn\'t opened: Agent Desk has no place called "settings".',
    );
    expect(screen.getByRole('heading', { name: 'Your profile' })).toBeTruthy();
    expect(backend.setStatus).not.toHaveBeenCalled();
  });
});

describe('changes kept on this computer', () => {
  async function signedIn(outbox: FakeOptions['outbox'] = {}) {
    const fake = fakeBackend(profile(), { outbox });
    const view = render(App, { backend: fake.backend });
    await screen.findByText('Your profile');
    await waitFor(() => expect(fake.outboxListeners()).toBe(1));
    return { ...fake, view, user: userEvent.setup() };
  }

  const line = () => screen.queryByTestId('outbox');

  it('says nothing while nothing waits, and follows the outbox as it changes', async () => {
    const fake = await signedIn();
    await waitFor(() => expect(fake.backend.outboxState).toHaveBeenCalled());
    expect(line()).toBeNull();
    fake.changeOutbox({ changes: [waitingChange(1)], reachable: false });
    await waitFor(() =>
      expect(line()?.textContent?.replace(/\s+/g, ' ').trim()).toBe(
        'Saved on this computer — will sync when the server is back · 1 change waiting Try now',
      ),
    );
    fake.changeOutbox({ changes: [], reachable: true });
    await waitFor(() => expect(line()).toBeNull());
  });

  it('says how many changes wait while the server is away, and tries again when asked', async () => {
    const { backend, user, view } = await signedIn({ changes: [waitingChange(1), waitingChange(2)], reachable: false });
    const status = await screen.findByTestId('outbox-waiting');
    expect(status.textContent).toContain('Saved on this computer — will sync when the server is back · 2 changes waiting');
    expect(line()?.closest('[role="status"]')).toBeTruthy();
    await expectAccessible(view.container);
    await user.click(within(status).getByRole('button', { name: 'Try now' }));
    expect(backend.sendWaitingNow).toHaveBeenCalledTimes(1);
  });

  it('says the changes are being sent once the server is there', async () => {
    await signedIn({ changes: [waitingChange(1), waitingChange(2), waitingChange(3)], reachable: true });
    const status = await screen.findByTestId('outbox-waiting');
    expect(status.textContent?.trim()).toBe('Sending 3 changes…');
    expect(within(status).queryByRole('button')).toBeNull();
  });

  it('asks to sign in again when the server ended the session', async () => {
    await signedIn({ changes: [waitingChange(1)], reachable: true, needs_sign_in: true });
    expect((await screen.findByTestId('outbox-waiting')).textContent?.trim()).toBe('Sign in again to send 1 change');
  });

  it('says a copy is shown, and since when', async () => {
    const at = new Date();
    at.setHours(9, 5, 0, 0);
    await signedIn({ as_of: at.toISOString(), reachable: false });
    expect((await screen.findByTestId('offline-as-of')).textContent?.trim()).toMatch(/^Offline — as of 9:05\sAM$/);
    expect(screen.queryByTestId('outbox-waiting')).toBeNull();
  });

  it('lists the refused changes with the reason, and discards one', async () => {
    const note = { kind: 'note_added', person_id: 'user-1', body: 'Promised a call back on Monday.' } as const;
    const { backend, user, view } = await signedIn({
      changes: [
        refusedChange(4, { kind: 'profile', patch: { job_title: 'x'.repeat(200) }, version: 1 }, 'job_title: too long'),
        waitingChange(5),
        { ...refusedChange(6, note), refused: { status: 403, code: 'forbidden', message: 'not yours', field: null } },
      ],
      reachable: false,
    });
    const refused = await screen.findByTestId('outbox-refused');
    expect(refused.textContent).toContain("2 changes weren't accepted");
    // The waiting one is counted on its own.
    expect(screen.getByTestId('outbox-waiting').textContent).toContain('1 change waiting');
    const review = within(refused).getByRole('button', { name: 'Review' });
    await user.click(review);

    const panel = await screen.findByTestId('review-changes');
    expect(panel.getAttribute('aria-labelledby')).toBe('review-title');
    expect(document.activeElement).toBe(within(panel).getByRole('heading', { name: "Changes the server didn't accept" }));
    const items = within(panel).getAllByRole('listitem');
    expect(items.map((item) => item.querySelector('.what')?.textContent)).toEqual(['Profile: Job title', 'Note on a customer']);
    expect(items[0]!.textContent).toContain("The server didn't accept a value: job_title: too long");
    expect(items[1]!.textContent).toContain('“Promised a call back on Monday.”');
    expect(items[1]!.textContent).toContain("You aren't allowed to make this change.");
    await expectAccessible(view.container);

    await user.click(within(items[0]!).getByRole('button', { name: 'Discard' }));
    expect(backend.discardChange).toHaveBeenCalledWith(4);
    await waitFor(() => expect(within(panel).getAllByRole('listitem')).toHaveLength(1));
    expect(screen.getByTestId('outbox-refused').textContent).toContain("1 change wasn't accepted");

    // Closing leaves the rest as it is, and goes back to the button.
    await user.click(within(panel).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByTestId('review-changes')).toBeNull());
    expect(document.activeElement).toBe(within(screen.getByTestId('outbox-refused')).getByRole('button', { name: 'Review' }));
    expect(backend.discardChange).toHaveBeenCalledTimes(1);
  });

  it('closes the list once the last refused change is discarded', async () => {
    const { backend, user } = await signedIn({ changes: [refusedChange(9)] });
    await user.click(await screen.findByRole('button', { name: 'Review' }));
    const panel = await screen.findByTestId('review-changes');
    await user.click(within(panel).getByRole('button', { name: 'Discard' }));
    expect(backend.discardChange).toHaveBeenCalledWith(9);
    await waitFor(() => expect(screen.queryByTestId('review-changes')).toBeNull());
    expect(line()).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1, name: 'Your profile' }));
  });

  it('asks before signing out deletes changes not sent, and stays signed in when asked to', async () => {
    const { backend, user, view } = await signedIn({ changes: [waitingChange(1), waitingChange(2)], reachable: false });
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete changes not sent yet?' });
    expect(backend.signOut).toHaveBeenCalledWith('ask');
    expect(dialog.textContent).toContain(
      "2 changes haven't reached the server. Signing out deletes them from this computer.",
    );
    await expectAccessible(view.container);
    await user.click(within(dialog).getByRole('button', { name: 'Stay signed in' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('heading', { name: 'Your profile' })).toBeTruthy();
    expect(screen.getByTestId('header-name').textContent).toBe('Dana Demo');
    expect(screen.getByTestId('outbox-waiting').textContent).toContain('2 changes waiting');

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await user.click(await screen.findByRole('button', { name: 'Sign out and delete them' }));
    expect(backend.signOut).toHaveBeenLastCalledWith('discard');
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(screen.queryByTestId('outbox')).toBeNull();
  });

  it('signs out without asking when nothing waits', async () => {
    const { backend, user } = await signedIn();
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(backend.signOut).toHaveBeenCalledTimes(1);
    expect(backend.signOut).toHaveBeenCalledWith('ask');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('keeps the changes when the server ends the session, and says they go at the next sign-in', async () => {
    const fake = await signedIn({ changes: [waitingChange(1), waitingChange(2), refusedChange(3)], reachable: true });
    await waitFor(() => expect(fake.sessionEndedListeners()).toBe(1));
    fake.endSessionOnServer();
    expect(await screen.findByText('Sign in to Agent Desk')).toBeTruthy();
    expect(fake.backend.signOut).toHaveBeenCalledTimes(1);
    expect(fake.backend.signOut).toHaveBeenCalledWith('keep');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByTestId('signin-notice').textContent).toBe(
      'You were signed out: your session was ended on the server — signed out from another device, or your password was changed or reset. Sign in again to continue. ' +
        "2 saved changes haven't reached the server yet: they are kept on this computer and will be sent when you sign in again.",
    );
    expect(fake.outbox().changes).toHaveLength(3);
  });

  it('says it in German too', async () => {
    const fake = fakeBackend(profile({ language: 'de' }), { outbox: { changes: [waitingChange(1)], reachable: false } });
    render(App, { backend: fake.backend });
    expect((await screen.findByTestId('outbox-waiting')).textContent).toContain(
      'Auf diesem Computer gespeichert – wird synchronisiert, sobald der Server wieder erreichbar ist · 1 Änderung wartet',
    );
    expect(screen.getByRole('button', { name: 'Jetzt versuchen' })).toBeTruthy();
  });
});
