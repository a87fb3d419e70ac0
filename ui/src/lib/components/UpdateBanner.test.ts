import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { expectAccessible } from '../../test/axe';
import { fakeBackend } from '../../test/fake-backend';
import UpdateBanner from './UpdateBanner.svelte';

const READY = {
  phase: 'ready' as const,
  version: '0.2.0',
  notes: 'Faster start.\nQuiet hours per team.',
};

describe('Update banner', () => {
  it('shows nothing while there is nothing to install', async () => {
    const fake = fakeBackend();
    render(UpdateBanner, { backend: fake.backend, unsaved: false });
    await waitFor(() => expect(fake.backend.updateState).toHaveBeenCalled());
    expect(screen.queryByTestId('update-ready')).toBeNull();
    // A check that failed is told on This computer, not above every screen.
    fake.updateChanged({ phase: { phase: 'failed', version: null, failure: { code: 'check', detail: 'timed out' } } });
    await Promise.resolve();
    expect(screen.queryByTestId('update-failed')).toBeNull();
  });

  it('offers a verified release with its notes, and restarts only when asked', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    const { container } = render(UpdateBanner, { backend: fake.backend, unsaved: false });
    fake.updateChanged({ phase: READY });
    expect((await screen.findByRole('heading')).textContent).toBe('Update available — restart to update');
    expect(screen.getByText(/Agent Desk 0\.2\.0 is downloaded and its signature checked/).textContent).toContain(
      'you keep using 0.1.0',
    );
    expect(screen.getByTestId('update-notes').textContent).toBe('Faster start.\nQuiet hours per team.');
    expect(fake.backend.restartToUpdate).not.toHaveBeenCalled();
    await expectAccessible(container);
    await user.click(screen.getByRole('button', { name: 'Restart to update' }));
    expect(fake.backend.restartToUpdate).toHaveBeenCalledTimes(1);
    expect((await screen.findByTestId('update-installing')).textContent).toContain('Installing Agent Desk 0.2.0');
  });

  it('does not restart while a form has unsaved changes', async () => {
    const fake = fakeBackend();
    render(UpdateBanner, { backend: fake.backend, unsaved: true });
    fake.updateChanged({ phase: READY });
    const button = (await screen.findByRole('button', { name: 'Restart to update' })) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(screen.getByText('Save or discard your changes first: restarting would lose them.')).toBeTruthy();
  });

  it('says plainly when the restart is refused', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(UpdateBanner, { backend: fake.backend, unsaved: false });
    fake.updateChanged({ phase: READY });
    fake.backend.restartToUpdate.mockRejectedValueOnce({
      code: 'unsaved_changes',
      message: 'Save or discard your changes first: restarting now would lose them.',
      field: null,
    });
    await user.click(await screen.findByRole('button', { name: 'Restart to update' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Save or discard your changes first: restarting would lose them.',
    );
  });

  it('tells why a release was refused, that the running version stays, and can be dismissed', async () => {
    const fake = fakeBackend();
    const user = userEvent.setup();
    render(UpdateBanner, { backend: fake.backend, unsaved: false });
    fake.updateChanged({
      phase: { phase: 'failed', version: '0.2.0', failure: { code: 'signature', detail: 'Verification failed' } },
    });
    const alert = await screen.findByTestId('update-failed');
    expect(alert.textContent).toContain(
      'Agent Desk 0.2.0 was not installed: its signature does not match the signing key built into this app',
    );
    expect(alert.textContent).toContain('You keep using 0.1.0, which works as before.');
    await user.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('update-failed')).toBeNull();
  });
});
