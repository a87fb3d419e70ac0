import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IpcError } from '../../lib/generated/IpcError';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { fakeBackend, profile } from '../../test/fake-backend';
import Profile from './Profile.svelte';

function setup(start = profile()) {
  const fake = fakeBackend(start);
  const onsaved = vi.fn();
  const onsessionended = vi.fn();
  const view = render(Profile, {
    backend: fake.backend,
    initial: fake.current(),
    onsaved,
    onsessionended,
  });
  return { ...fake, onsaved, onsessionended, view, user: userEvent.setup() };
}

const input = (label: RegExp) => screen.getByLabelText(label) as HTMLInputElement;

describe('profile screen', () => {
  afterEach(() => setLanguage('en'));

  it('shows every field, the email read-only with its note', async () => {
    setup();
    expect(input(/Display name/).value).toBe('Dana Demo');
    expect(input(/Job title/).value).toBe('Support Specialist');
    expect(screen.getByTestId('email').textContent).toBe('dana@agentdesk.example');
    expect(screen.getByText(/Set by your administrator/)).toBeTruthy();
    expect(screen.getByText('Primary')).toBeTruthy();
    for (const label of [/Phone/, /Mobile/, /Office location/, /^Time zone$/, /^Language$/, /^Signature/, /Operator ID/]) {
      expect(screen.getByLabelText(label)).toBeTruthy();
    }
    expect(screen.getByLabelText(/Add my signature/)).toBeTruthy();
  });

  it('saves only what changed and confirms', async () => {
    const { backend, user, onsaved } = setup();
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Team Lead' }, '"1"');
    expect(onsaved).toHaveBeenCalled();
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
  });

  it('shows a field error while typing and sends nothing', async () => {
    const { backend, user } = setup();
    await user.type(input(/^Phone/), '030 1234');
    expect(await screen.findByText('Start with the country code, e.g. +49 30 1234567.')).toBeTruthy();
    expect(input(/^Phone/).getAttribute('aria-invalid')).toBe('true');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByTestId('profile-banner')).toBeTruthy();
    expect(backend.updateProfile).not.toHaveBeenCalled();
  });

  it('puts server-side errors at the field they name', async () => {
    const { backend, user } = setup();
    const refusal: IpcError = {
      code: 'validation_failed',
      message: 'operator_id: bad',
      field: 'operator_id',
      details: [{ field: 'operator_id', code: 'invalid_operator_id', message: 'bad' }],
    };
    backend.updateProfile.mockRejectedValueOnce(refusal);
    await user.type(input(/Operator ID/), 'op7');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText("Use only letters, digits, '.', '_' and '-'.")).toBeTruthy();
  });

  it('keeps the form when the server is unreachable', async () => {
    const { backend, user } = setup();
    const offline: IpcError = { code: 'server_unreachable', message: 'refused', field: 'server_url' };
    backend.updateProfile.mockRejectedValueOnce(offline);
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('profile-banner')).textContent).toContain("Couldn't reach the server");
    expect(input(/Job title/).value).toBe('Team Lead');
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
  });

  it('carries edits over a version conflict', async () => {
    const { user, changeElsewhere } = setup();
    changeElsewhere({ department: 'Billing' });
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('profile-banner')).textContent).toContain('changed elsewhere');
    expect(input(/Department/).value).toBe('Billing');
    expect(input(/Job title/).value).toBe('Team Lead');
  });

  it('switches the UI language live when German is chosen', async () => {
    const { user } = setup();
    const select = await screen.findByLabelText(/Language/);
    await waitFor(() => expect(select.querySelectorAll('option').length).toBe(2));
    await user.selectOptions(select, 'de');
    expect(await screen.findByRole('button', { name: 'Speichern' })).toBeTruthy();
    expect(screen.getByText('Dein Profil')).toBeTruthy();
  });

  it('searches time zones and shows the local time', async () => {
    const { user } = setup();
    const box = screen.getByRole('combobox', { name: 'Time zone' });
    await user.click(box);
    await user.type(box, 'york');
    const list = await screen.findByRole('listbox');
    const options = within(list).getAllByRole('option');
    expect(options.map((o) => o.textContent?.trim())).toEqual(['UTC−05:00 · America/New York']);
    await user.keyboard('{Enter}');
    expect(screen.getByText(/Local time there:/)).toBeTruthy();
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
  });

  it('passes the accessibility check', async () => {
    const { view } = setup();
    await screen.findAllByRole('option', { hidden: true }).catch(() => []);
    await expectAccessible(view.container);
  });
});
