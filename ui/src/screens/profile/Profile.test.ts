import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IpcError } from '../../lib/generated/IpcError';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { failure, fakeBackend, mergeConflict, profile, waitingChange } from '../../test/fake-backend';
import Profile from './Profile.svelte';

function setup(start = profile()) {
  const fake = fakeBackend(start);
  const onsaved = vi.fn();
  const onsessionended = vi.fn();
  const view = render(Profile, {
    backend: fake.backend,
    outbox: fake.connectOutbox(),
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

  it('counts the signature as core does: code points, without the white space at its end', async () => {
    const { user } = setup();
    await user.type(input(/^Signature/), '  Dana 😀{Enter}{Enter}');
    expect(screen.getByText('8 of 2000 characters')).toBeTruthy();
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

  it('shows the error core finds while typing, and sends nothing', async () => {
    const { backend, user } = setup();
    backend.validateProfile.mockResolvedValue([
      { field: 'phone', code: 'phone_needs_country_code', message: 'needs a country code' },
    ]);
    await user.type(input(/^Phone/), '030 1234');
    expect(await screen.findByText('Start with the country code, e.g. +49 30 1234567.')).toBeTruthy();
    // Asked again a moment after the last key.
    await waitFor(() => expect(backend.validateProfile).toHaveBeenLastCalledWith({ phone: '030 1234' }));
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

  it('says a save is kept on this computer while the server is away, and plain Saved once it is back', async () => {
    const { backend, user } = setup();
    // As the shell answers right after the save; the event saying so may come later.
    const away = {
      changes: [waitingChange(3, { kind: 'profile', patch: { job_title: 'Team Lead' }, version: 1 })],
      reachable: false,
      needs_sign_in: false,
      conflicts: [],
      as_of: null,
    };
    backend.outboxState.mockResolvedValue(away);
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(screen.getByTestId('save-state').textContent?.trim()).toBe(
        '✓ Saved on this computer — will sync when the server is back',
      ),
    );
    expect(screen.queryByTestId('profile-banner')).toBeNull();
    expect(input(/Job title/).value).toBe('Team Lead');

    backend.outboxState.mockResolvedValue({ ...away, changes: [], reachable: true });
    await user.type(input(/Job title/), ' II');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent?.trim()).toBe('✓ Saved'));
  });

  it('says a save waits for the next sign-in when the server ended the session', async () => {
    const { user, changeOutbox } = setup();
    changeOutbox({ changes: [waitingChange(3)], reachable: true, needs_sign_in: true });
    await user.type(input(/Job title/), ' II');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(screen.getByTestId('save-state').textContent?.trim()).toBe(
        '✓ Saved on this computer — will be sent when you sign in again',
      ),
    );
  });

  it('shows the value a change replaced under its field, and restores it', async () => {
    const { backend, user, changeOutbox } = setup();
    changeOutbox({ conflicts: [mergeConflict({ id: 7, field: 'job_title', replaced: 'Team Lead', applied: 'Support Specialist' })] });
    const note = await screen.findByTestId('conflict-job_title');
    expect(note.textContent).toContain('Replaced “Team Lead” — your change was applied.');
    // Under its own field, not another's.
    expect(note.closest('[data-field]')?.getAttribute('data-field')).toBe('job-title');
    expect(screen.queryByTestId('conflict-phone')).toBeNull();
    await expectAccessible(document.body);

    await user.type(input(/Office location/), 'Berlin');
    await user.click(screen.getByTestId('restore-job_title'));
    expect(backend.restoreReplaced).toHaveBeenCalledWith(7);
    await waitFor(() => expect(input(/Job title/).value).toBe('Team Lead'));
    expect(backend.getProfile).toHaveBeenCalled();
    expect(screen.queryByTestId('conflict-job_title')).toBeNull();
    // An edit being made to another field stays.
    expect(input(/Office location/).value).toBe('Berlin');
  });

  it("keeps the agent's value when asked, and words a replaced empty value and a switch", async () => {
    const { backend, user, changeOutbox } = setup();
    changeOutbox({
      conflicts: [
        mergeConflict({ id: 2, field: 'phone', replaced: null, applied: '+49 30 1234567' }),
        mergeConflict({ id: 3, field: 'use_signature', replaced: false, applied: true }),
      ],
    });
    expect((await screen.findByTestId('conflict-phone')).textContent).toContain(
      'Someone had cleared this meanwhile — your change was applied.',
    );
    expect(screen.getByTestId('conflict-use_signature').textContent).toContain('Replaced “Off”');
    await user.click(screen.getByRole('button', { name: 'Keep your change to Phone' }));
    expect(backend.dismissConflict).toHaveBeenCalledWith(2);
    expect(backend.restoreReplaced).not.toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId('conflict-phone')).toBeNull());
    expect(screen.getByTestId('conflict-use_signature')).toBeTruthy();
  });

  it('carries edits over a version conflict', async () => {
    const { backend, user, changeElsewhere } = setup();
    changeElsewhere({ department: 'Billing' });
    backend.updateProfile.mockRejectedValueOnce(failure('version_conflict', 'stale'));
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('profile-banner')).textContent).toContain('changed elsewhere');
    expect(backend.getProfile).toHaveBeenCalled();
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

  it("says what the phone number is for here, promising no SMS", async () => {
    setup();
    const hint = document.getElementById(input(/^Phone/).getAttribute('aria-describedby')!.split(' ')[0]!);
    expect(hint?.textContent).toContain('The number colleagues and the helpdesk reach you on.');
    for (const lang of ['de', 'en']) {
      setLanguage(lang);
      await waitFor(() => expect(document.documentElement.lang).toBe(lang));
      expect(document.body.textContent).not.toMatch(/SMS/);
    }
  });

  it('offers only the languages the app speaks', async () => {
    setup();
    const select = (await screen.findByLabelText(/^Language/)) as HTMLSelectElement;
    await waitFor(() => expect([...select.options].map((o) => o.value)).toEqual(['en', 'de']));
    expect([...select.options].map((o) => o.textContent)).toEqual(['English', 'Deutsch']);
    expect(screen.getByText('Also the language of this app.')).toBeTruthy();
  });

  it('keeps a stored language the app is not translated into, marked, until the agent changes it', async () => {
    const { backend, user, current } = setup(profile({ language: 'fr' }));
    const select = (await screen.findByLabelText(/^Language/)) as HTMLSelectElement;
    await waitFor(() => expect([...select.options].map((o) => o.value)).toEqual(['en', 'de', 'fr']));
    expect(select.value).toBe('fr');
    expect(select.selectedOptions[0]!.textContent).toBe('français (not translated)');
    expect(screen.getByText(/Agent Desk is not translated into French, so it is shown in English/)).toBeTruthy();
    // The app speaks English meanwhile.
    expect(screen.getByRole('button', { name: 'Save' })).toBeTruthy();

    // Saving another field neither sends the language nor loses it.
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(backend.updateProfile).toHaveBeenLastCalledWith({ job_title: 'Team Lead' }, '"1"');
    expect(current().profile.language).toBe('fr');
    expect(select.value).toBe('fr');
    expect(select.selectedOptions[0]!.textContent).toBe('français (not translated)');

    // Choosing a language the app has replaces it; until saved, French can be had back.
    await user.selectOptions(select, 'de');
    expect(await screen.findByRole('button', { name: 'Speichern' })).toBeTruthy();
    expect([...select.options].map((o) => o.value)).toEqual(['en', 'de', 'fr']);
    await user.click(screen.getByRole('button', { name: 'Speichern' }));
    await waitFor(() => expect(current().profile.language).toBe('de'));
    await waitFor(() => expect([...select.options].map((o) => o.value)).toEqual(['en', 'de']));
  });

  /** The server's answer to a department asked for: the request waits, the department stays. */
  function requested(value: string | null, etag = '"2"', changes: Partial<ReturnType<typeof profile>> = {}) {
    return { profile: profile({ department_request: { value, requested_at: '2026-11-24T09:00:00Z' }, ...changes }), etag };
  }

  it('sends a new department to an administrator for approval and keeps showing the one in force', async () => {
    const { backend, user, onsaved } = setup();
    backend.updateProfile.mockResolvedValueOnce(requested('Billing'));
    expect(screen.getByText('A change of department goes to an administrator for approval.')).toBeTruthy();
    expect(screen.queryByTestId('department-request')).toBeNull();
    await user.clear(input(/^Department/));
    await user.type(input(/^Department/), 'Billing');
    await user.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Sent for approval'));
    expect(screen.getByTestId('save-state').textContent).not.toContain('Saved');
    expect(backend.updateProfile).toHaveBeenCalledWith({ department: 'Billing' }, '"1"');
    expect(screen.getByTestId('profile-banner').textContent).toContain(
      'Your request to change department has been sent to an administrator for approval.',
    );
    expect(input(/^Department/).value).toBe('Customer Care');
    const request = screen.getByTestId('department-request');
    expect(request.textContent).toContain('Requested: Billing — waiting for an administrator');
    expect(onsaved).toHaveBeenLastCalledWith(requested('Billing'));
    // Nothing is left unsaved: the request is the change.
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
  });

  it('says "Saved" for the other fields saved with a department request', async () => {
    const { backend, user } = setup();
    backend.updateProfile.mockResolvedValueOnce(requested('Billing', '"2"', { job_title: 'Team Lead' }));
    await user.clear(input(/^Department/));
    await user.type(input(/^Department/), 'Billing');
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toContain('Saved'));
    expect(backend.updateProfile).toHaveBeenCalledWith({ job_title: 'Team Lead', department: 'Billing' }, '"1"');
    expect(screen.getByTestId('profile-banner').textContent).toContain('sent to an administrator for approval');
    expect(input(/Job title/).value).toBe('Team Lead');
    expect(input(/^Department/).value).toBe('Customer Care');
  });

  it('asks for no department as a request too', async () => {
    const { backend, user } = setup();
    backend.updateProfile.mockResolvedValueOnce(requested(null));
    await user.clear(input(/^Department/));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('department-request')).toBeTruthy());
    expect(backend.updateProfile).toHaveBeenCalledWith({ department: '' }, '"1"');
    expect(screen.getByTestId('department-request').textContent).toContain('Requested: no department');
    expect(input(/^Department/).value).toBe('Customer Care');
  });

  it('withdraws a pending request by asking for the department in force, keeping other edits', async () => {
    const { backend, user } = setup(
      profile({ department_request: { value: 'Billing', requested_at: '2026-11-23T09:00:00Z' } }),
    );
    backend.updateProfile.mockResolvedValueOnce({ profile: profile(), etag: '"2"' });
    const request = screen.getByTestId('department-request');
    expect(request.textContent).toContain('Requested: Billing — waiting for an administrator');
    expect(request.textContent).toContain('2026');
    await user.clear(input(/Job title/));
    await user.type(input(/Job title/), 'Team Lead');
    await user.click(within(request).getByRole('button', { name: 'Withdraw request' }));

    await waitFor(() => expect(screen.queryByTestId('department-request')).toBeNull());
    expect(backend.updateProfile).toHaveBeenCalledWith({ department: 'Customer Care' }, '"1"');
    expect(screen.getByTestId('profile-banner').textContent).toContain('withdrawn');
    expect(input(/Job title/).value).toBe('Team Lead');
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
  });

  it('follows an administrator’s decision when the profile changes on the server', async () => {
    const fake = setup();
    const { user, backend } = fake;
    backend.updateProfile.mockResolvedValueOnce(requested('Billing', '"r1"'));
    // As the shell does: the saved profile, and then each one the server reports, come back down.
    fake.onsaved.mockImplementation((next) => fake.view.rerender({ initial: next }));
    await fake.backend.onProfileChanged((next) => fake.view.rerender({ initial: next }));
    await user.clear(input(/^Department/));
    await user.type(input(/^Department/), 'Billing');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('department-request')).toBeTruthy());

    // Approved: the server reports the new department and no request.
    fake.profileChangedElsewhere({ department: 'Billing', department_request: null });
    await waitFor(() => expect(input(/^Department/).value).toBe('Billing'));
    expect(screen.queryByTestId('department-request')).toBeNull();
    expect(screen.getByTestId('profile-banner').textContent).toBe(
      'An administrator approved your change of department.',
    );
    expect(screen.getByTestId('save-state').textContent?.trim()).toBe('');

    await user.clear(input(/^Department/));
    backend.updateProfile.mockResolvedValueOnce(requested('Escalations', '"r2"', { department: 'Billing' }));
    await user.type(input(/^Department/), 'Escalations');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.getByTestId('department-request').textContent).toContain('Escalations'));
    // Refused: the request is gone, the department stays.
    fake.profileChangedElsewhere({ department: 'Billing', department_request: null });
    await waitFor(() => expect(screen.queryByTestId('department-request')).toBeNull());
    expect(input(/^Department/).value).toBe('Billing');
    expect(screen.getByTestId('profile-banner').textContent).toContain('no longer waiting: it was refused or withdrawn');
  });

  it('passes the accessibility check with a pending department request', async () => {
    const { view } = setup(profile({ department_request: { value: 'Billing', requested_at: '2026-11-23T09:00:00Z' } }));
    await expectAccessible(view.container);
  });

  it('passes the accessibility check', async () => {
    const { view } = setup();
    await screen.findAllByRole('option', { hidden: true }).catch(() => []);
    await expectAccessible(view.container);
  });
});
