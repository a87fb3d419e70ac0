import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { expectAccessible } from '../../test/axe';
import { fakeBackend } from '../../test/fake-backend';
import ThisComputer from './ThisComputer.svelte';

const LABEL = 'Start Agent Desk when I sign in to the computer';

describe('This computer', () => {
  it('shows whether the app starts with the session, and turns it on and off', async () => {
    const { backend } = fakeBackend();
    backend.thisComputer.mockResolvedValue({ start_at_login: true });
    const user = userEvent.setup();
    const { container } = render(ThisComputer, { backend });
    const box = (await screen.findByRole('checkbox', { name: LABEL })) as HTMLInputElement;
    await waitFor(() => expect(box.checked).toBe(true));
    expect(box.disabled).toBe(false);
    await user.click(box);
    expect(backend.setStartAtLogin).toHaveBeenLastCalledWith(false);
    await waitFor(() => expect(box.checked).toBe(false));
    expect(await screen.findByText(/Saved/)).toBeTruthy();
    await user.click(box);
    expect(backend.setStartAtLogin).toHaveBeenLastCalledWith(true);
    await waitFor(() => expect(box.checked).toBe(true));
    await expectAccessible(container);
  });

  it('keeps showing what is in force when the change fails, and says why', async () => {
    const { backend } = fakeBackend();
    backend.setStartAtLogin.mockRejectedValue({
      code: 'settings',
      message: 'Starting with the computer could not be changed: permission denied',
      field: null,
    });
    const user = userEvent.setup();
    render(ThisComputer, { backend });
    const box = (await screen.findByRole('checkbox', { name: LABEL })) as HTMLInputElement;
    await waitFor(() => expect(box.disabled).toBe(false));
    await user.click(box);
    expect((await screen.findByRole('alert')).textContent).toBe('Your settings could not be saved on this computer.');
    expect(box.checked).toBe(false);
  });

  it('quits from the app, for desktops without a tray', async () => {
    const { backend } = fakeBackend();
    const user = userEvent.setup();
    render(ThisComputer, { backend });
    await user.click(screen.getByRole('button', { name: 'Quit Agent Desk' }));
    expect(backend.quitApp).toHaveBeenCalledTimes(1);
  });

  it('shows the version, checks for updates when asked, and says what the server answered', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(ThisComputer, { backend: fake.backend });
    expect((await screen.findByTestId('app-version')).textContent).toBe('Agent Desk 0.1.0');
    expect(screen.getByText('Not checked for updates yet')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Check for updates' }));
    expect(fake.backend.checkForUpdates).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.getByTestId('update-status').textContent).toBe('Checking for updates…'));
    // No second check while one runs.
    expect(screen.queryByRole('button', { name: 'Check for updates' })).toBeNull();
    fake.updateChanged({ checked_at: '2026-12-07T10:42:00Z', phase: { phase: 'idle' } });
    await waitFor(() => expect(screen.getByTestId('update-status').textContent).toBe('You have the latest version.'));
    expect(screen.getByText(/^Last checked for updates /)).toBeTruthy();
    fake.updateChanged({
      phase: { phase: 'downloading', version: '0.2.0', received: 512 * 1024, total: 2 * 1024 * 1024 },
    });
    await waitFor(() =>
      expect(screen.getByTestId('update-status').textContent).toBe('Downloading Agent Desk 0.2.0… 25 %'),
    );
    fake.updateChanged({ phase: { phase: 'failed', version: null, failure: { code: 'check', detail: 'connection refused' } } });
    await waitFor(() =>
      expect(screen.getByTestId('update-status').textContent).toBe(
        'Could not check for updates: the server could not be asked (connection refused).',
      ),
    );
    expect(screen.getByRole('button', { name: 'Check for updates' })).toBeTruthy();
  });

  it('says a build without the signing key takes no updates, and offers no check', async () => {
    const { backend } = fakeBackend();
    backend.updateState.mockResolvedValue({
      current_version: '0.1.0',
      enabled: false,
      checked_at: null,
      phase: { phase: 'idle' },
    });
    render(ThisComputer, { backend });
    expect(await screen.findByText(/This build does not take updates/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Check for updates' })).toBeNull();
  });
});
