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
    expect((await screen.findByRole('status')).textContent).toContain('Saved');
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
});
