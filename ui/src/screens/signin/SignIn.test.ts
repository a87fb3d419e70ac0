import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { IpcError } from '../../lib/generated/IpcError';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { failure, fakeBackend, rateLimited } from '../../test/fake-backend';
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

  it('says why a plain http:// address to another computer is refused, at the address field', async () => {
    const { backend, onsignedin, user } = setup();
    backend.signIn.mockRejectedValue(
      failure('insecure_server_url', 'http:// is only for a server on this computer; use https://', 'server_url'),
    );
    const server = screen.getByLabelText(/Server address/) as HTMLInputElement;
    await user.clear(server);
    await user.type(server, 'http://desk.example.com');
    await user.type(screen.getByLabelText(/Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/Password/), 'Secret-1!');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(server.getAttribute('aria-invalid')).toBe('true'));
    const error = document.getElementById('server-url-error');
    expect(error?.textContent).toBe(
      'Use https:// for a server on another computer; http:// only works for a server on this computer.',
    );
    expect(document.activeElement).toBe(server);
    expect(onsignedin).not.toHaveBeenCalled();
    expect(backend.signIn).toHaveBeenCalledTimes(1);
    expect(backend.signIn).toHaveBeenCalledWith('http://desk.example.com', 'dana@agentdesk.example', 'Secret-1!');

    setLanguage('de');
    try {
      await user.click(await screen.findByRole('button', { name: 'Anmelden' }));
      await waitFor(() =>
        expect(document.getElementById('server-url-error')?.textContent).toBe(
          'Verwende https:// für einen Server auf einem anderen Computer; http:// funktioniert nur für einen Server auf diesem Computer.',
        ),
      );
    } finally {
      setLanguage('en');
    }
  });

  it('signs in over plain http:// to this computer when the backend accepts it', async () => {
    const { backend, onsignedin, user } = setup();
    await user.type(screen.getByLabelText(/Email/), 'dana@agentdesk.example');
    await user.type(screen.getByLabelText(/Password/), 'Secret-1!');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(onsignedin).toHaveBeenCalled());
    expect(backend.signIn).toHaveBeenCalledWith('http://127.0.0.1:8787/', 'dana@agentdesk.example', 'Secret-1!');
    expect(document.getElementById('server-url-error')).toBeNull();
  });

  it('passes the accessibility check', async () => {
    const { view } = setup();
    await expectAccessible(view.container);
  });
});

describe('forgotten password', () => {
  async function openReset(email = 'dana@agentdesk.example') {
    const context = setup();
    if (email) await context.user.type(screen.getByLabelText(/Email/), email);
    await context.user.click(screen.getByRole('button', { name: 'Forgot password?' }));
    await screen.findByRole('heading', { name: 'Reset your password' });
    return context;
  }

  const resetEmail = () => screen.getByLabelText(/Email/) as HTMLInputElement;

  it('takes the email and server from the sign-in form', async () => {
    await openReset();
    expect(resetEmail().value).toBe('dana@agentdesk.example');
    expect(document.activeElement).toBe(resetEmail());
    expect((screen.getByLabelText(/Server address/) as HTMLInputElement).value).toBe('http://127.0.0.1:8787/');
    expect(screen.queryByLabelText(/Password/)).toBeNull();
  });

  it('explains what happens once the link is sent', async () => {
    const { backend, user } = await openReset();
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    const sent = await screen.findByTestId('reset-sent');
    expect(backend.requestPasswordReset).toHaveBeenCalledWith('http://127.0.0.1:8787/', 'dana@agentdesk.example');
    expect(sent.textContent).toContain('If an account exists for dana@agentdesk.example');
    expect(sent.textContent).toContain('The link works once, for 30 minutes.');
    expect(sent.textContent).toContain('any device');
    expect(sent.textContent).toContain('spam');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Check your email' })));
  });

  it('uses the minutes the server answers', async () => {
    const { backend, user } = await openReset();
    backend.requestPasswordReset.mockResolvedValueOnce({ message: 'sent', valid_minutes: 1 });
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    expect((await screen.findByTestId('reset-sent')).textContent).toContain('The link works once, for 1 minute.');
  });

  it('puts an address the backend finds invalid at the email field', async () => {
    const { backend, user } = await openReset('dana');
    backend.requestPasswordReset.mockRejectedValueOnce(
      failure('invalid_email', 'email is not a valid email address', 'email'),
    );
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    expect(await screen.findByText('Enter a valid email address.')).toBeTruthy();
    expect(backend.requestPasswordReset).toHaveBeenCalledWith('http://127.0.0.1:8787/', 'dana');
    expect(resetEmail().getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(resetEmail());
    expect(screen.queryByTestId('reset-sent')).toBeNull();
  });

  it('asks for a missing address without calling the server', async () => {
    const { backend, user } = await openReset('');
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    expect(screen.getByText('Enter your Email.')).toBeTruthy();
    expect(backend.requestPasswordReset).not.toHaveBeenCalled();
  });

  it('says how long to wait when throttled', async () => {
    const { backend, user } = await openReset();
    backend.requestPasswordReset.mockRejectedValueOnce(rateLimited(90));
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    expect((await screen.findByTestId('reset-error')).textContent).toBe('Too many attempts. Try again in 90 seconds.');
    expect(screen.getByTestId('reset-error').getAttribute('role')).toBe('alert');
  });

  it('puts an unreachable server at the address field', async () => {
    const { backend, user } = await openReset();
    const unreachable: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    backend.requestPasswordReset.mockRejectedValueOnce(unreachable);
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    const field = screen.getByLabelText(/Server address/);
    await waitFor(() => expect(field.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText(/Can't reach the server/)).toBeTruthy();
  });

  it('goes back to sign-in keeping the address', async () => {
    const { user } = await openReset();
    await user.clear(resetEmail());
    await user.type(resetEmail(), 'dana.demo@agentdesk.example');
    await user.click(screen.getByRole('button', { name: 'Back to sign-in' }));
    expect(await screen.findByRole('heading', { name: 'Sign in to Agent Desk' })).toBeTruthy();
    expect((screen.getByLabelText(/Email/) as HTMLInputElement).value).toBe('dana.demo@agentdesk.example');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Forgot password?' })));
  });

  it('passes the accessibility check, before and after sending', async () => {
    const { view, user } = await openReset();
    await expectAccessible(view.container);
    await user.click(screen.getByRole('button', { name: 'Send reset link' }));
    await screen.findByTestId('reset-sent');
    await expectAccessible(view.container);
  });
});
