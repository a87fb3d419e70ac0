import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { IpcError } from '../../lib/generated/IpcError';
import { expectAccessible } from '../../test/axe';
import { fakeBackend } from '../../test/fake-backend';
import SignIn from './SignIn.svelte';

function setup() {
  const { backend } = fakeBackend();
  const onsignedin = vi.fn();
  const view = render(SignIn, { backend, serverUrl: 'http://127.0.0.1:8787/', email: '', onsignedin });
  return { backend, onsignedin, view, user: userEvent.setup() };
}

describe('sign-in screen', () => {
  it('asks for missing fields without calling the server', async () => {
    const { backend, user } = setup();
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Enter your Email.')).toBeTruthy();
    expect(screen.getByText('Enter your Password.')).toBeTruthy();
    expect(backend.signIn).not.toHaveBeenCalled();
  });

  it('signs in with what was typed', async () => {
    const { backend, onsignedin, user } = setup();
    await user.type(screen.getByLabelText(/Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/Password/), 'Secret-1!');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(onsignedin).toHaveBeenCalled());
    expect(backend.signIn).toHaveBeenCalledWith('http://127.0.0.1:8787/', 'dana@agentdesk.example', 'Secret-1!');
  });

  it('shows wrong credentials as a form error and clears the password', async () => {
    const { backend, user } = setup();
    const refusal: IpcError = { code: 'invalid_credentials', message: 'invalid email or password', field: null };
    backend.signIn.mockRejectedValueOnce(refusal);
    await user.type(screen.getByLabelText(/Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/Password/), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByTestId('signin-error')).textContent).toContain('Wrong email or password.');
    expect((screen.getByLabelText(/Password/) as HTMLInputElement).value).toBe('');
  });

  it('puts server address problems at the address field', async () => {
    const { backend, user } = setup();
    const unreachable: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    backend.signIn.mockRejectedValueOnce(unreachable);
    await user.type(screen.getByLabelText(/Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/Password/), 'Secret-1!');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    const field = screen.getByLabelText(/Server address/);
    await waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText(/Can't reach the server/)).toBeTruthy();
  });

  it('passes the accessibility check', async () => {
    const { view } = setup();
    await expectAccessible(view.container);
  });
});
