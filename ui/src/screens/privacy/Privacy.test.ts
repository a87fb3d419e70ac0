import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Profile } from '../../lib/generated/Profile';
import type { VersionedProfile } from '../../lib/generated/VersionedProfile';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { failure, fakeBackend, mergeConflict, privacyPreview, profile, waitingChange } from '../../test/fake-backend';
import Privacy from './Privacy.svelte';

function setup(start: Partial<Profile> = {}) {
  const fake = fakeBackend(profile(start));
  const onsaved = vi.fn();
  const onsessionended = vi.fn();
  const view = render(Privacy, { backend: fake.backend, outbox: fake.connectOutbox(), initial: fake.current(), onsaved, onsessionended });
  return { ...fake, onsaved, onsessionended, view, user: userEvent.setup() };
}

const radio = (name: RegExp) => screen.getByRole('radio', { name }) as HTMLInputElement;
const checkbox = (name: RegExp) => screen.getByRole('checkbox', { name }) as HTMLInputElement;
const save = () => screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement;

describe('Privacy', () => {
  afterEach(() => setLanguage('en'));

  it('shows the saved choices, with nothing to save', async () => {
    const { view } = setup({ visibility: 'department' });
    expect(radio(/^My department/).checked).toBe(true);
    expect(screen.getByText('Agents in Customer Care see your profile. Others see only your name and photo.')).toBeTruthy();
    expect(checkbox(/^Show my phone numbers/).checked).toBe(true);
    expect(checkbox(/^I'm open to calendar invitations/).checked).toBe(false);
    expect(save().disabled).toBe(true);
    await expectAccessible(view.container);
  });

  it('says what each contact preference does here, promising no messaging, calendar or SMS', async () => {
    const { view } = setup();
    for (const [lang, title] of [
      ['de', 'Datenschutz'],
      ['en', 'Privacy'],
    ] as const) {
      setLanguage(lang);
      await screen.findByRole('heading', { level: 1, name: title });
      const text = view.container.textContent ?? '';
      expect(text).not.toMatch(/message you directly|direkt schreiben|free or busy|frei oder belegt|SMS/);
    }
    const hint = (name: RegExp) => document.getElementById(checkbox(name).getAttribute('aria-describedby')!)?.textContent;
    expect(screen.getByText(/find these on your record in the People directory/)).toBeTruthy();
    expect(hint(/^I welcome direct messages/)).toContain('“Welcomes direct messages”');
    expect(hint(/^I welcome direct messages/)).toContain('Agent Desk has no messaging of its own');
    expect(hint(/^I'm open to calendar invitations/)).toContain('“Open to calendar invitations”');
    expect(hint(/^I'm open to calendar invitations/)).toContain('does not read or share your calendar');
    expect(screen.getByTestId('preview-other').textContent).toContain('contact preferences');
  });

  it('saves a visibility and contact preferences in one change', async () => {
    const { user, backend, current, onsaved } = setup();
    await user.click(radio(/^Only me/));
    await user.click(checkbox(/^Show my phone numbers/));
    await user.click(checkbox(/^I'm open to calendar invitations/));
    expect(screen.getByTestId('privacy-save-state').textContent).toContain('You have unsaved changes.');
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(true);
    await user.click(save());

    expect(backend.updateProfile).toHaveBeenCalledWith(
      {
        visibility: 'private',
        contact_prefs: {
          allow_direct_messages: true,
          show_phone: false,
          show_online_status: true,
          calendar_integration: true,
        },
      },
      '"1"',
    );
    await waitFor(() => expect(screen.getByTestId('privacy-save-state').textContent).toContain('Saved'));
    expect(current().profile.visibility).toBe('private');
    expect(onsaved).toHaveBeenCalledWith(current());
    expect(save().disabled).toBe(true);
    expect(backend.setUnsavedChanges).toHaveBeenLastCalledWith(false);
  });

  it('shows the preview core answers for the settings being edited', async () => {
    const { user, backend } = setup();
    const same = () => screen.getByTestId('preview-same').textContent;
    const other = () => screen.getByTestId('preview-other').textContent;
    const prefs = profile().contact_prefs;
    await waitFor(() => expect(backend.privacyPreview).toHaveBeenCalledWith('public', prefs, 'Customer Care'));
    await waitFor(() =>
      expect(other()).toBe(
        'name and photo, job title, department, emails, office, time zone, teams, contact preferences, phone numbers, online status',
      ),
    );

    backend.privacyPreview.mockResolvedValueOnce(
      privacyPreview({ other_department: { details: true, phones: true, status: false } }),
    );
    await user.click(checkbox(/^Show my online status/));
    expect(backend.privacyPreview).toHaveBeenLastCalledWith(
      'public',
      { ...prefs, show_online_status: false },
      'Customer Care',
    );
    await waitFor(() => expect(other()).not.toContain('online status'));
    expect(other()).toContain('phone numbers');

    backend.privacyPreview.mockResolvedValueOnce({
      same_department: { details: true, phones: true, status: false },
      other_department: { details: false, phones: false, status: false },
    });
    await user.click(radio(/^My department/));
    expect(backend.privacyPreview).toHaveBeenLastCalledWith(
      'department',
      { ...prefs, show_online_status: false },
      'Customer Care',
    );
    await waitFor(() => expect(other()).toBe('name and photo'));
    expect(same()).toBe('name and photo, job title, department, emails, office, time zone, teams, contact preferences, phone numbers');
    expect(screen.getByText('Agents in Customer Care')).toBeTruthy();
  });

  it('says the preview is unavailable when core cannot be asked for the settings on screen', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(screen.getByTestId('preview-other').textContent).toContain('online status'));
    backend.privacyPreview.mockRejectedValueOnce(failure('internal', 'boom'));
    await user.click(radio(/^Only me/));
    expect(backend.privacyPreview).toHaveBeenLastCalledWith('private', expect.anything(), 'Customer Care');
    expect((await screen.findByTestId('preview-unavailable')).textContent).toBe(
      'The preview is not available right now. Saving works as usual.',
    );
    // No answer for the settings before is shown for these.
    expect(screen.queryByTestId('preview-other')).toBeNull();
    expect(screen.queryByTestId('preview-same')).toBeNull();
    expect(screen.getByTestId('privacy-preview').getAttribute('aria-busy')).toBe('false');
    expect(radio(/^Only me/).checked).toBe(true);
    expect(save().disabled).toBe(false);

    // Back to settings core answers for: their preview shows again.
    const hidden = { details: false, phones: false, status: false };
    backend.privacyPreview.mockResolvedValueOnce(privacyPreview({ other_department: hidden }));
    await user.click(radio(/^Everyone/));
    await waitFor(() => expect(screen.getByTestId('preview-other').textContent).toBe('name and photo'));
    expect(screen.queryByTestId('preview-unavailable')).toBeNull();
  });

  it('shows nothing for settings whose preview has not arrived, not even a late answer for the ones before', async () => {
    const { user, backend } = setup();
    const list = () => screen.getByTestId('privacy-preview');
    await waitFor(() => expect(screen.getByTestId('preview-other').textContent).toContain('online status'));
    expect(list().getAttribute('aria-busy')).toBe('false');

    let answerOld: (preview: ReturnType<typeof privacyPreview>) => void = () => {};
    let answerNew: (preview: ReturnType<typeof privacyPreview>) => void = () => {};
    backend.privacyPreview.mockImplementationOnce(() => new Promise((resolve) => (answerOld = resolve)));
    await user.click(checkbox(/^Show my online status/));
    backend.privacyPreview.mockImplementationOnce(() => new Promise((resolve) => (answerNew = resolve)));
    await user.click(radio(/^Only me/));
    expect(backend.privacyPreview).toHaveBeenLastCalledWith(
      'private',
      { ...profile().contact_prefs, show_online_status: false },
      'Customer Care',
    );
    expect(list().getAttribute('aria-busy')).toBe('true');
    expect(screen.getByTestId('preview-same').textContent).toBe('');
    expect(screen.getByTestId('preview-other').textContent).toBe('');

    // The answer for the settings before arrives late: it is not these settings' preview.
    answerOld(privacyPreview());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(list().getAttribute('aria-busy')).toBe('true');
    expect(screen.getByTestId('preview-same').textContent).toBe('');
    expect(screen.getByTestId('preview-other').textContent).toBe('');

    const hidden = { details: false, phones: false, status: false };
    answerNew(privacyPreview({ same_department: hidden, other_department: hidden }));
    await waitFor(() => expect(list().getAttribute('aria-busy')).toBe('false'));
    expect(screen.getByTestId('preview-same').textContent).toBe('name and photo');
    expect(screen.getByTestId('preview-other').textContent).toBe('name and photo');
  });

  it('shows nothing when the department changed since the preview was asked for', async () => {
    const { view, backend, current, changeElsewhere } = setup();
    await waitFor(() => expect(screen.getByTestId('preview-other').textContent).toContain('online status'));
    backend.privacyPreview.mockImplementation(() => new Promise(() => {}));
    changeElsewhere({ department: 'Billing' });
    await view.rerender({ initial: current() as VersionedProfile });
    await waitFor(() => expect(backend.privacyPreview).toHaveBeenLastCalledWith('public', expect.anything(), 'Billing'));
    expect(screen.getByTestId('privacy-preview').getAttribute('aria-busy')).toBe('true');
    expect(screen.getByTestId('preview-other').textContent).toBe('');
  });

  it('ignores a late preview for settings already changed again', async () => {
    const { user, backend } = setup();
    let answerFirst: (preview: ReturnType<typeof privacyPreview>) => void = () => {};
    await waitFor(() => expect(backend.privacyPreview).toHaveBeenCalledTimes(1));
    backend.privacyPreview.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    await user.click(radio(/^My department/));
    const hidden = { details: false, phones: false, status: false };
    backend.privacyPreview.mockResolvedValueOnce(privacyPreview({ same_department: hidden, other_department: hidden }));
    await user.click(radio(/^Only me/));
    await waitFor(() => expect(screen.getByTestId('preview-same').textContent).toBe('name and photo'));
    answerFirst(privacyPreview());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(screen.getByTestId('preview-same').textContent).toBe('name and photo');
  });

  it('warns that department visibility without a department shows nothing more', async () => {
    const { user, backend } = setup({ department: null });
    expect(screen.queryByTestId('no-department')).toBeNull();
    const hidden = { details: false, phones: false, status: false };
    backend.privacyPreview.mockResolvedValue(privacyPreview({ same_department: hidden, other_department: hidden }));
    await user.click(radio(/^My department/));
    expect(screen.getByTestId('no-department').textContent).toContain('Your profile has no department');
    expect(backend.privacyPreview).toHaveBeenLastCalledWith('department', expect.anything(), null);
    await waitFor(() => expect(screen.getByTestId('preview-same').textContent).toBe('name and photo'));
  });

  it('discards the choices', async () => {
    const { user, backend } = setup();
    await user.click(radio(/^Only me/));
    await user.click(screen.getByRole('button', { name: 'Discard changes' }));
    expect(radio(/^Everyone/).checked).toBe(true);
    expect(backend.updateProfile).not.toHaveBeenCalled();
  });

  it('saves on top of a profile changed elsewhere when its privacy did not change', async () => {
    const { user, backend, changeElsewhere, current } = setup();
    changeElsewhere({ job_title: 'Team lead' });
    backend.updateProfile.mockRejectedValueOnce(failure('version_conflict', 'stale'));
    await user.click(radio(/^Only me/));
    await user.click(save());
    await waitFor(() => expect(current().profile.visibility).toBe('private'));
    expect(backend.getProfile).toHaveBeenCalledTimes(1);
    expect(backend.updateProfile).toHaveBeenLastCalledWith(expect.objectContaining({ visibility: 'private' }), '"2"');
    expect(current().profile.job_title).toBe('Team lead');
    expect(screen.queryByTestId('privacy-banner')).toBeNull();
  });

  it('asks again when the privacy itself was changed elsewhere', async () => {
    const { user, backend, changeElsewhere, current } = setup();
    changeElsewhere({ visibility: 'department' });
    backend.updateProfile.mockRejectedValueOnce(failure('version_conflict', 'stale'));
    await user.click(radio(/^Only me/));
    await user.click(save());
    expect((await screen.findByTestId('privacy-banner')).textContent).toContain('changed on another device');
    expect(current().profile.visibility).toBe('department');
    // The agent's choice stays on screen, now against the new base, and saves.
    expect(radio(/^Only me/).checked).toBe(true);
    await user.click(save());
    await waitFor(() => expect(current().profile.visibility).toBe('private'));
    expect(backend.updateProfile).toHaveBeenLastCalledWith(expect.objectContaining({ visibility: 'private' }), '"2"');
  });

  it('follows a change pushed from the server when nothing is being edited', async () => {
    const { view, current, changeElsewhere } = setup();
    changeElsewhere({ contact_prefs: { ...current().profile.contact_prefs, show_phone: false } });
    await view.rerender({ initial: current() as VersionedProfile });
    await waitFor(() => expect(checkbox(/^Show my phone numbers/).checked).toBe(false));
    expect(save().disabled).toBe(true);
  });

  it('says the choice is saved on this computer while the server is away', async () => {
    const { user, changeOutbox } = setup();
    changeOutbox({
      changes: [waitingChange(4, { kind: 'profile', patch: { visibility: 'private' }, version: 1 })],
      reachable: false,
    });
    await user.click(radio(/^Only me/));
    await user.click(save());
    await waitFor(() =>
      expect(screen.getByTestId('privacy-save-state').textContent?.trim()).toBe(
        '✓ Saved on this computer — will sync when the server is back',
      ),
    );
    expect(screen.queryByTestId('privacy-banner')).toBeNull();
    expect(radio(/^Only me/).checked).toBe(true);
    expect(save().disabled).toBe(true);
  });

  it('shows a privacy setting a change replaced, and restores it', async () => {
    const { user, backend, changeOutbox } = setup({ visibility: 'private' });
    changeOutbox({
      conflicts: [mergeConflict({ id: 8, field: 'visibility', replaced: 'department', applied: 'private' })],
    });
    const note = await screen.findByTestId('conflict-visibility');
    expect(note.textContent).toContain('Replaced “My department” — your change was applied.');
    await user.click(screen.getByRole('button', { name: 'Restore the value your change replaced in Who can see your profile' }));
    expect(backend.restoreReplaced).toHaveBeenCalledWith(8);
    await waitFor(() => expect(radio(/^My department/).checked).toBe(true));
    expect(screen.queryByTestId('conflict-visibility')).toBeNull();
  });
});
