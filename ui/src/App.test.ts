import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { IpcError } from './lib/generated/IpcError';
import { expectAccessible } from './test/axe';
import { fakeBackend } from './test/fake-backend';

describe('app shell', () => {
  it('restores the session straight into the profile', async () => {
    const { backend } = fakeBackend();
    const view = render(App, { backend });
    expect(await screen.findByText('Your profile')).toBeTruthy();
    expect(screen.getByTestId('header-name').textContent).toBe('Dana Demo');
    await expectAccessible(view.container);
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
});

describe('closing the window', () => {
  it('asks first when there are unsaved changes, then quits discarding them', async () => {
    const { backend } = fakeBackend();
    let requestClose: () => void = () => {};
    backend.onCloseRequested.mockImplementation(async (handler) => {
      requestClose = handler;
      return () => {};
    });
    const user = userEvent.setup();
    render(App, { backend });
    await user.type(await screen.findByLabelText(/Job title/), ' II');
    requestClose();
    await user.click(await screen.findByRole('button', { name: 'Discard and close' }));
    expect(backend.quitDiscardingChanges).toHaveBeenCalledTimes(1);
  });
});
