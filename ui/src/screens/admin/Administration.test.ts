import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { failure, fakeBackend, profile } from '../../test/fake-backend';
import Administration from './Administration.svelte';

function setup() {
  const fake = fakeBackend(profile({ is_admin: true }));
  const onsessionended = vi.fn();
  const view = render(Administration, { backend: fake.backend, me: 'agent-1', onsessionended });
  return { ...fake, onsessionended, view, user: userEvent.setup() };
}

async function row(name: string) {
  const table = await screen.findByTestId('admin-agents');
  const found = within(table)
    .getAllByRole('row')
    .find((candidate) => within(candidate).queryByRole('button', { name }));
  if (!found) throw new Error(`no row for ${name}`);
  return found;
}

async function open(user: ReturnType<typeof userEvent.setup>, name: string) {
  await user.click(within(await row(name)).getByRole('button', { name }));
  return screen.findByTestId('agent-editor');
}

describe('Administration', () => {
  afterEach(() => setLanguage('en'));

  it('lists the agents with their department, teams, status and last sign-in, and marks who is what', async () => {
    setup();
    const ada = await row('Ada Lovelace');
    expect(ada.textContent).toContain('ada@agentdesk.example');
    expect(ada.textContent).toContain('Billing');
    expect(ada.textContent).toContain('Available');
    const dana = await row('Dana Demo');
    expect(dana.textContent).toContain('Administrator');
    const max = await row('Max Mustermann');
    expect(max.textContent).toContain('Deactivated');
    expect(max.textContent).toContain('Never');
    expect(screen.getByTestId('admin-count').textContent).toBe('3 agents');
  });

  it('asks the server again as the search and filters change, waiting for a pause in typing', async () => {
    const { backend } = setup();
    await screen.findByTestId('admin-agents');
    backend.listAgents.mockClear();
    // Typing on a clock the test moves: nothing is asked until the pause is over.
    vi.useFakeTimers();
    try {
      const typing = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      await typing.type(screen.getByLabelText('Search'), 'ada');
      await vi.advanceTimersByTimeAsync(200);
      expect(backend.listAgents).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(100);
      expect(backend.listAgents).toHaveBeenCalledTimes(1);
      expect(backend.listAgents).toHaveBeenLastCalledWith(expect.objectContaining({ q: 'ada', activity: 'active' }));
    } finally {
      vi.useRealTimers();
    }
    const user = userEvent.setup();

    await user.selectOptions(screen.getByLabelText('Show'), 'deactivated');
    await waitFor(() =>
      expect(backend.listAgents).toHaveBeenLastCalledWith(expect.objectContaining({ activity: 'deactivated' })),
    );
    await user.selectOptions(screen.getByLabelText('Department'), 'Billing');
    await user.selectOptions(screen.getByLabelText('Role'), 'admin');
    await waitFor(() =>
      expect(backend.listAgents).toHaveBeenLastCalledWith(
        expect.objectContaining({ department: 'Billing', is_admin: true }),
      ),
    );
  });

  it('adds an agent and says the welcome mail went out', async () => {
    const { user, backend, agents } = setup();
    await user.click(await screen.findByTestId('admin-new-agent'));
    const form = screen.getByTestId('new-agent-form');
    expect(form.textContent).toContain('valid for 7 days');
    await user.type(within(form).getByLabelText(/Email/), 'linus@example.com');
    await user.type(within(form).getByLabelText(/Display name/), 'Linus Torvalds');
    await user.type(within(form).getByLabelText('Department'), 'Kernel');
    await user.click(within(form).getByTestId('new-agent-submit'));

    expect(backend.createAgent).toHaveBeenCalledWith({
      email: 'linus@example.com',
      display_name: 'Linus Torvalds',
      department: 'Kernel',
      is_admin: false,
    });
    expect((await screen.findByTestId('admin-message')).textContent).toContain(
      'Linus Torvalds was added. A welcome mail went to linus@example.com.',
    );
    expect(agents().some((agent) => agent.email === 'linus@example.com')).toBe(true);
    expect(await row('Linus Torvalds')).toBeTruthy();
  });

  it('shows each refused field of a new agent at the field and keeps what was typed', async () => {
    const { user, backend } = setup();
    backend.createAgent.mockRejectedValueOnce({
      ...failure('validation_failed', 'email: is not a valid email address', 'email'),
      details: [
        { field: 'email', code: 'invalid_email', message: 'is not a valid email address' },
        { field: 'display_name', code: 'required', message: 'is required' },
      ],
    });
    await user.click(await screen.findByTestId('admin-new-agent'));
    const form = screen.getByTestId('new-agent-form');
    await user.type(within(form).getByLabelText(/Email/), 'linus');
    await user.click(within(form).getByTestId('new-agent-submit'));

    expect(await within(form).findByText('Enter a valid email address.')).toBeTruthy();
    expect(within(form).getByText('This field is required.')).toBeTruthy();
    expect((within(form).getByLabelText(/Email/) as HTMLInputElement).value).toBe('linus');

    backend.createAgent.mockRejectedValueOnce(failure('email_taken', 'taken', 'email'));
    await user.click(within(form).getByTestId('new-agent-submit'));
    expect(
      await within(form).findByText('Another agent already signs in with or has this address.'),
    ).toBeTruthy();
  });

  it("changes an agent's address, department and role with the version it read", async () => {
    const { user, backend } = setup();
    const editor = await open(user, 'Ada Lovelace');
    const email = within(editor).getByRole('textbox', { name: /Email/ });
    await user.clear(email);
    await user.type(email, 'ada.lovelace@agentdesk.example');
    const department = within(editor).getByLabelText('Department');
    await user.clear(department);
    await user.type(department, 'Sales');
    await user.click(within(editor).getByLabelText('Administrator'));
    await user.click(within(editor).getByTestId('agent-save'));

    expect(backend.updateAgent).toHaveBeenCalledWith(
      'agent-2',
      { email: 'ada.lovelace@agentdesk.example', department: 'Sales', is_admin: true },
      '"a1"',
    );
    expect((await within(editor).findByTestId('agent-message')).textContent).toContain('The changes were saved.');
    expect((within(editor).getByTestId('agent-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('keeps the edits and shows the other change when someone changed the agent first', async () => {
    const { user, backend } = setup();
    const editor = await open(user, 'Ada Lovelace');
    backend.updateAgent.mockRejectedValueOnce(failure('version_conflict'));
    const title = within(editor).getByLabelText('Job title');
    await user.clear(title);
    await user.type(title, 'Lead Analyst');
    await user.click(within(editor).getByTestId('agent-save'));

    expect((await within(editor).findByTestId('agent-message')).textContent).toContain(
      'Someone else changed this agent in the meantime.',
    );
    expect((within(editor).getByLabelText('Job title') as HTMLInputElement).value).toBe('Lead Analyst');
    expect(backend.getAgent).toHaveBeenCalledTimes(2);
  });

  it('deactivates an agent only after asking, and says what it means', async () => {
    const { user, backend } = setup();
    const editor = await open(user, 'Ada Lovelace');
    await user.click(within(editor).getByTestId('agent-deactivate'));
    const dialog = await screen.findByRole('dialog', { name: 'Deactivate Ada Lovelace?' });
    expect(dialog.textContent).toContain('signed out everywhere at once');
    await user.click(within(dialog).getByRole('button', { name: 'Keep active' }));
    expect(backend.updateAgent).not.toHaveBeenCalled();

    await user.click(within(editor).getByTestId('agent-deactivate'));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Deactivate' }));
    expect(backend.updateAgent).toHaveBeenCalledWith('agent-2', { active: false }, '"a1"');
    expect((await within(editor).findByTestId('agent-message')).textContent).toContain(
      'Ada Lovelace was deactivated',
    );
    expect(within(editor).getByTestId('agent-reactivate')).toBeTruthy();
  });

  it('does not offer administrators to deactivate themselves, and says why the last one stays', async () => {
    const { user, backend } = setup();
    const editor = await open(user, 'Dana Demo');
    expect((within(editor).getByTestId('agent-deactivate') as HTMLButtonElement).disabled).toBe(true);
    backend.updateAgent.mockRejectedValueOnce(failure('last_administrator'));
    await user.click(within(editor).getByLabelText('Administrator'));
    await user.click(within(editor).getByTestId('agent-save'));
    expect((await within(editor).findByTestId('agent-message')).textContent).toContain(
      'This would leave no active administrator.',
    );
  });

  it('sends a password link and decides a department request', async () => {
    const { user, backend } = setup();
    const requests = await screen.findByTestId('department-requests');
    expect(requests.textContent).toContain('1 request to change department');
    expect(requests.textContent).toContain('From Billing to Sales');
    await user.click(within(requests).getByRole('button', { name: 'Approve' }));
    expect(backend.decideDepartmentRequest).toHaveBeenCalledWith('dept-1', true, null);
    expect((await screen.findByTestId('admin-message')).textContent).toContain('Ada Lovelace moved to Sales.');
    await waitFor(() => expect(screen.queryByTestId('department-requests')).toBeNull());

    const editor = await open(user, 'Ada Lovelace');
    await user.click(within(editor).getByTestId('agent-send-link'));
    expect(backend.sendPasswordLink).toHaveBeenCalledWith('agent-2');
    expect((await within(editor).findByTestId('agent-message')).textContent).toContain(
      'A link to choose a password was sent to ada@agentdesk.example.',
    );
  });

  it('tells the shell when the session has ended', async () => {
    const fake = fakeBackend(profile({ is_admin: true }));
    fake.backend.listAgents.mockRejectedValue(failure('unauthorized'));
    const onsessionended = vi.fn();
    render(Administration, { backend: fake.backend, me: 'agent-1', onsessionended });
    await waitFor(() => expect(onsessionended).toHaveBeenCalled());
    expect((await screen.findByTestId('admin-load-error')).textContent).toContain("Couldn't load the administration");
  });

  it("sets an agent's notifications for them, with the version it read, and shows locked channels locked", async () => {
    const { backend, user } = setup();
    const editor = await open(user, 'Ada Lovelace');
    const prefs = await within(editor).findByTestId('agent-prefs');
    const sound = within(prefs).getByRole('checkbox', { name: 'Sound — Ticket assigned to me' }) as HTMLInputElement;
    expect(sound.checked).toBe(true);
    // Ada does not administer: the admin-only rows are not hers.
    expect((within(prefs).getByRole('checkbox', { name: 'Desktop — Any new ticket' }) as HTMLInputElement).disabled).toBe(true);
    await user.click(sound);
    await user.click(within(prefs).getByRole('button', { name: 'Save notifications' }));
    expect((await within(prefs).findByTestId('agent-prefs-message')).textContent).toBe('Saved Ada Lovelace’s notifications.');
    const [agentId, sent, etag] = backend.saveAgentNotificationPrefs.mock.calls[0]!;
    expect(agentId).toBe('agent-2');
    expect(etag).toBe('"ap1"');
    expect(sent.events.find((row) => row.type === 'ticket.assigned')?.sound).toBe(false);

    // A channel locked for everyone since: refused, and said so at its row.
    backend.saveAgentNotificationPrefs.mockRejectedValueOnce(
      failure('forbidden', 'an administrator has locked the sound channel of ticket.assigned: SLA', 'events[0].sound'),
    );
    await user.click(sound);
    await user.click(within(prefs).getByRole('button', { name: 'Save notifications' }));
    expect((await within(prefs).findByRole('alert')).textContent).toBe(
      'An administrator has locked this for everyone; it was not changed.',
    );
  });

  it('locks channels for everyone with a reason, asks for the reason first, and unlocks them', async () => {
    const { backend, user, locks } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Notifications' }));
    expect(screen.getByRole('tab', { name: 'Notifications' }).getAttribute('aria-selected')).toBe('true');
    const panel = await screen.findByTestId('notification-locks');
    expect(screen.queryByTestId('admin-agents')).toBeNull();
    // Only what agents configure: no admin-only types.
    expect(within(panel).queryByTestId('lock-ticket.created')).toBeNull();
    const assigned = within(panel).getByTestId('lock-ticket.assigned');
    const save = within(panel).getByRole('button', { name: 'Save for everyone' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    const reason = within(assigned).getByRole('textbox', { name: 'Reason shown to agents — Ticket assigned to me' }) as HTMLInputElement;
    expect(reason.disabled).toBe(true);

    await user.selectOptions(within(assigned).getByRole('combobox', { name: 'Sound — Ticket assigned to me' }), 'on');
    await user.selectOptions(within(assigned).getByRole('combobox', { name: 'Email — Ticket assigned to me' }), 'immediate');
    expect(reason.disabled).toBe(false);
    await user.click(save);
    expect((await within(assigned).findByRole('alert')).textContent).toBe('Say why, for the agents who will see it set.');
    expect(document.activeElement).toBe(reason);
    expect(backend.saveNotificationLocks).not.toHaveBeenCalled();

    await user.type(reason, 'SLA: answer within 5 minutes');
    await user.click(save);
    expect((await within(panel).findByTestId('locks-message')).textContent).toContain('Saved.');
    expect(backend.saveNotificationLocks).toHaveBeenCalledWith(
      { locks: [{ type: 'ticket.assigned', desktop: null, sound: true, email: 'immediate', reason: 'SLA: answer within 5 minutes' }] },
      '"l0"',
    );
    expect(locks().etag).toBe('"l1"');

    // Left to agents again: the lock goes.
    await user.selectOptions(within(assigned).getByRole('combobox', { name: 'Sound — Ticket assigned to me' }), '');
    await user.selectOptions(within(assigned).getByRole('combobox', { name: 'Email — Ticket assigned to me' }), '');
    await user.click(save);
    await waitFor(() => expect(locks().locks.locks).toEqual([]));
    expect(backend.saveNotificationLocks).toHaveBeenLastCalledWith({ locks: [] }, '"l1"');
  });

  async function teamsTab(user: ReturnType<typeof userEvent.setup>) {
    await user.click(await screen.findByRole('tab', { name: 'Teams' }));
    return screen.findByTestId('admin-team-Billing');
  }

  it('makes a team, refusing a name taken, and renames it', async () => {
    const { backend, user, administeredTeams } = setup();
    await teamsTab(user);
    const name = screen.getByLabelText('New team');
    await user.click(screen.getByRole('button', { name: 'Create team' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Give the team a name.');
    expect(backend.createTeam).not.toHaveBeenCalled();
    await user.type(name, 'Billing');
    await user.click(screen.getByRole('button', { name: 'Create team' }));
    expect((await screen.findByRole('alert')).textContent).toContain('a team called Billing already exists');
    expect(name.getAttribute('aria-invalid')).toBe('true');
    await user.clear(name);
    await user.type(name, 'Night shift');
    await user.click(screen.getByRole('button', { name: 'Create team' }));
    expect((await screen.findByTestId('teams-message')).textContent).toContain('Night shift was made');
    expect(backend.createTeam).toHaveBeenLastCalledWith({ name: 'Night shift', leads: [], members: [] });
    expect((name as HTMLInputElement).value).toBe('');

    const night = await screen.findByTestId('admin-team-Night shift');
    await user.click(within(night).getByRole('button', { name: 'Rename' }));
    const rename = screen.getByLabelText('New name for Night shift');
    await user.clear(rename);
    await user.type(rename, 'Nights');
    await user.click(screen.getByRole('button', { name: 'Save name' }));
    expect((await screen.findByTestId('teams-message')).textContent).toBe('Night shift is now called Nights.');
    expect(administeredTeams().map((team) => team.name)).toContain('Nights');
  });

  it('makes a lead, adds and removes members, and deletes a team only after asking', async () => {
    const { backend, user, administeredTeams } = setup();
    const billing = await teamsTab(user);
    await user.selectOptions(within(billing).getByRole('combobox', { name: 'Role of Ada Lovelace in Billing' }), 'lead');
    await waitFor(() => expect(backend.setTeamMember).toHaveBeenCalledWith('team-billing', 'agent-2', 'lead'));
    expect((await screen.findByTestId('teams-message')).textContent).toBe('Ada Lovelace leads Billing.');

    const escalations = screen.getByTestId('admin-team-Escalations');
    expect(escalations.textContent).toContain('Nobody is in this team yet.');
    await user.selectOptions(within(escalations).getByLabelText('Add an agent'), 'agent-2');
    await user.click(within(escalations).getByRole('button', { name: 'Add' }));
    await waitFor(() => expect(backend.setTeamMember).toHaveBeenLastCalledWith('team-escalations', 'agent-2', 'member'));
    await waitFor(() => expect(screen.getByTestId('admin-team-Escalations').textContent).toContain('Ada Lovelace'));

    await user.click(within(screen.getByTestId('admin-team-Escalations')).getByRole('button', { name: 'Remove Ada Lovelace from Escalations' }));
    await waitFor(() => expect(backend.removeTeamMember).toHaveBeenCalledWith('team-escalations', 'agent-2'));

    await user.click(within(screen.getByTestId('admin-team-Billing')).getByRole('button', { name: 'Delete team' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('Its 2 agents leave it');
    await user.click(within(dialog).getByRole('button', { name: 'Keep the team' }));
    expect(backend.deleteTeam).not.toHaveBeenCalled();
    await user.click(within(screen.getByTestId('admin-team-Billing')).getByRole('button', { name: 'Delete team' }));
    await user.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Delete team' }));
    await waitFor(() => expect(backend.deleteTeam).toHaveBeenCalledWith('team-billing'));
    await waitFor(() => expect(screen.queryByTestId('admin-team-Billing')).toBeNull());
    expect(administeredTeams().map((team) => team.name)).toEqual(['Escalations']);
  });

  it("decides a team's requests to join from its place", async () => {
    const { backend, user } = setup();
    const billing = await teamsTab(user);
    expect(billing.textContent).toContain('Robin Rookie asks to join');
    await user.click(within(billing).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(backend.decideJoinRequest).toHaveBeenCalledWith('request-1', true, null));
    expect((await screen.findByTestId('teams-message')).textContent).toBe('Robin Rookie joined Billing.');
  });

  it('has no accessibility violations on the teams tab', async () => {
    const { user, view } = setup();
    await teamsTab(user);
    await expectAccessible(view.container);
  });

  it('merges a duplicate organization after asking, and renames one', async () => {
    const { backend, user, organizations } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Customer data' }));
    const typo = await screen.findByTestId('org-Acme Inc');
    await user.click(within(typo).getByRole('button', { name: 'Merge Acme Inc into another organization' }));
    await user.selectOptions(screen.getByLabelText('Merge Acme Inc into'), 'org-acme');
    await user.click(within(screen.getByTestId('organizations-admin')).getByRole('button', { name: 'Merge' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('The 1 people of Acme Inc move to Acme');
    expect(backend.mergeOrganizations).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Merge' }));
    await waitFor(() => expect(backend.mergeOrganizations).toHaveBeenCalledWith('org-acme-typo', 'org-acme'));
    expect((await screen.findByTestId('data-message')).textContent).toBe('Acme Inc was merged into Acme.');
    expect(organizations().map((org) => org.name)).toEqual(['Analytical Engines', 'Acme']);
    expect(screen.getByTestId('org-Acme').textContent).toContain('3 people');

    await user.click(screen.getByRole('button', { name: 'Rename Acme' }));
    const name = screen.getByLabelText('New name for Acme');
    await user.clear(name);
    await user.type(name, 'Analytical Engines');
    await user.click(screen.getByRole('button', { name: 'Save name' }));
    expect((await screen.findByRole('alert')).textContent).toContain('already exists');
    await user.clear(name);
    await user.type(name, 'Acme Corp');
    await user.click(screen.getByRole('button', { name: 'Save name' }));
    expect((await screen.findByTestId('data-message')).textContent).toBe('Acme is now called Acme Corp.');
  });

  it('defines a custom field, asking for a choice’s options, and retires and restores one', async () => {
    const { backend, user, administeredFields } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Customer data' }));
    const form = await screen.findByTestId('new-field-form');
    await user.type(within(form).getByLabelText('Name'), 'Tier');
    await user.selectOptions(within(form).getByLabelText('Kind'), 'choice');
    await user.click(within(form).getByRole('button', { name: 'Create field' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('A choice needs at least one option.');
    expect(backend.createCustomField).not.toHaveBeenCalled();
    await user.type(within(form).getByLabelText('Options'), 'Gold, Silver ,');
    await user.click(within(form).getByRole('button', { name: 'Create field' }));
    expect((await screen.findByTestId('data-message')).textContent).toBe('Tier is on every customer’s record.');
    expect(backend.createCustomField).toHaveBeenCalledWith({ name: 'Tier', kind: 'choice', choices: ['Gold', 'Silver'] });
    expect(await screen.findByTestId('field-Tier')).toBeTruthy();

    const plan = screen.getByTestId('field-Plan');
    expect(plan.textContent).toContain('1 record');
    await user.click(within(plan).getByRole('button', { name: 'Retire Plan' }));
    await waitFor(() => expect(backend.updateCustomField).toHaveBeenCalledWith('field-plan', { retired: true }));
    expect((await screen.findByTestId('data-message')).textContent).toContain('its values are kept');
    expect(screen.getByTestId('field-Plan').textContent).toContain('Retired');
    await user.click(within(screen.getByTestId('field-Plan')).getByRole('button', { name: 'Restore Plan' }));
    await waitFor(() => expect(administeredFields().find((entry) => entry.field.id === 'field-plan')?.retired).toBe(false));
  });

  it('keeps the list of usergroups, saying what a list means', async () => {
    const { backend, user, usergroups } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Customer data' }));
    const groups = await screen.findByTestId('usergroups-admin');
    expect(groups.textContent).toContain('No list yet');
    await user.type(within(groups).getByLabelText('Add a usergroup to the list'), 'VIP');
    await user.click(within(groups).getByRole('button', { name: 'Add to list' }));
    expect((await screen.findByTestId('data-message')).textContent).toBe('VIP is on the list.');
    expect(groups.textContent).toContain('take only these groups');
    expect(usergroups().map((group) => group.name)).toEqual(['VIP']);
    await user.type(within(groups).getByLabelText('Add a usergroup to the list'), 'VIP');
    await user.click(within(groups).getByRole('button', { name: 'Add to list' }));
    expect((await within(groups).findByRole('alert')).textContent).toContain('already listed');
    await user.click(within(groups).getByRole('button', { name: 'Take VIP off the list' }));
    await waitFor(() => expect(backend.removeUsergroup).toHaveBeenCalledWith('group-1'));
    expect(usergroups()).toEqual([]);
  });

  it('has no accessibility violations on the customer data tab', async () => {
    const { user, view } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Customer data' }));
    await screen.findByTestId('org-Acme');
    await expectAccessible(view.container);
  });

  it('moves between the tabs with the arrow keys', async () => {
    const { user } = setup();
    const agentsTab = await screen.findByRole('tab', { name: 'Agents' });
    agentsTab.focus();
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Teams' }));
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Customer data' }));
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Notifications' }));
    expect(await screen.findByTestId('notification-locks')).toBeTruthy();
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Integrations' }));
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(agentsTab);
  });

  it('has no accessibility violations on the notifications tab', async () => {
    const { user, view } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Notifications' }));
    await screen.findByTestId('lock-ticket.assigned');
    await expectAccessible(view.container);
  });

  it('has no accessibility violations with the list and an agent open', async () => {
    const { user, view } = setup();
    await open(user, 'Ada Lovelace');
    await expectAccessible(view.container);
  });
  it("shows how each helpdesk, webhook and token goes, and where each webhook posts", async () => {
    const { user } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Integrations' }));
    const rt = await screen.findByTestId('helpdesk-request_tracker');
    expect(rt.textContent).toContain('Alerts flowing');
    expect(rt.textContent).toContain('http://rt.example/');
    expect(rt.textContent).toContain('10 seconds');
    const generic = screen.getByTestId('hook-generic');
    expect(generic.textContent).toContain('Deliveries go to http://127.0.0.1:8787/api/v1/hooks/generic');
    expect(generic.textContent).toContain('by Dana Demo');
    expect(generic.textContent).toContain('12 deliveries accepted');
    expect(generic.textContent).toContain('does not match the body');
    expect(screen.getByTestId('hook-zendesk').textContent).toContain('No secret: deliveries refused');
    const router = screen.getByTestId('token-Router');
    expect(router.textContent).toContain('Read who takes what');
    expect(router.textContent).toContain('on the server');
    expect(screen.getByTestId('status-webhook-admin').textContent).toContain('posted nowhere');
  });

  it('makes a token, asking for a name and a scope first, shows it once, and revokes one only after asking', async () => {
    const { backend, user, integrations } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Integrations' }));
    const form = await screen.findByTestId('new-token-form');
    await user.click(within(form).getByRole('button', { name: 'Make token' }));
    expect(within(form).getAllByRole('alert').map((alert) => alert.textContent)).toEqual([
      'Give it a name.',
      'Choose at least one thing it may do.',
    ]);
    expect(backend.createIntegrationToken).not.toHaveBeenCalled();
    await user.type(within(form).getByLabelText('Name'), 'Router');
    await user.click(within(form).getByLabelText(/Send alerts/));
    backend.createIntegrationToken.mockRejectedValueOnce(
      failure('conflict', 'an integration called Router already has a token; revoke it first', 'name'),
    );
    await user.click(within(form).getByRole('button', { name: 'Make token' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('already has a token');
    await user.clear(within(form).getByLabelText('Name'));
    await user.type(within(form).getByLabelText('Name'), 'Zendesk automation');
    await user.click(within(form).getByRole('button', { name: 'Make token' }));
    expect(backend.createIntegrationToken).toHaveBeenLastCalledWith({ name: 'Zendesk automation', scopes: ['events:write'] });
    const once = await screen.findByTestId('shown-once');
    expect(within(once).getByRole('heading').textContent).toBe('The token of Zendesk automation');
    expect((screen.getByTestId('shown-once-value') as HTMLInputElement).value).toBe('adi_made-2');
    await user.click(within(once).getByRole('button', { name: 'Copy' }));
    expect(await navigator.clipboard.readText()).toBe('adi_made-2');
    await user.click(within(once).getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByTestId('shown-once')).toBeNull();
    expect(await screen.findByTestId('token-Zendesk automation')).toBeTruthy();

    await user.click(screen.getByRole('button', { name: 'Revoke the token of Router' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('Router is refused from its next request');
    expect(backend.revokeIntegrationToken).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(backend.revokeIntegrationToken).toHaveBeenCalledWith('token-router'));
    expect((await screen.findByTestId('integrations-message')).textContent).toBe('The token of Router is revoked.');
    expect(integrations().tokens.map((token) => token.name)).toEqual(['Zendesk automation']);
  });

  it("rotates a webhook's secret with a grace period, takes Zendesk's own, and removes one only after asking", async () => {
    const { backend, user } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Integrations' }));
    const generic = await screen.findByTestId('hook-generic');
    await user.click(within(generic).getByRole('button', { name: 'Rotate the Any other helpdesk (signed JSON) secret' }));
    const grace = within(generic).getByLabelText('Accept the current secret for (hours)');
    expect((grace as HTMLInputElement).value).toBe('24');
    await user.clear(grace);
    await user.type(grace, '721');
    await user.click(within(generic).getByRole('button', { name: 'Make the secret' }));
    expect((await within(generic).findByRole('alert')).textContent).toBe('Give a whole number of hours from 0 to 720.');
    expect(backend.setHookSecret).not.toHaveBeenCalled();
    await user.clear(grace);
    await user.type(grace, '0');
    await user.click(within(generic).getByRole('button', { name: 'Make the secret' }));
    expect(backend.setHookSecret).toHaveBeenCalledWith('generic', { grace_hours: 0 });
    expect((await screen.findByTestId('shown-once-value') as HTMLInputElement).value).toBe('made-secret-1');

    const zendesk = screen.getByTestId('hook-zendesk');
    await user.click(within(zendesk).getByRole('button', { name: 'Set the Zendesk secret' }));
    expect(within(zendesk).queryByLabelText('Accept the current secret for (hours)')).toBeNull();
    await user.click(within(zendesk).getByRole('button', { name: 'Save the secret' }));
    expect((await within(zendesk).findByRole('alert')).textContent).toContain('Paste the signing secret');
    await user.type(within(zendesk).getByLabelText('Zendesk’s signing secret'), ' zd-secret ');
    await user.click(within(zendesk).getByRole('button', { name: 'Save the secret' }));
    expect(backend.setHookSecret).toHaveBeenLastCalledWith('zendesk', { grace_hours: 24, secret: 'zd-secret' });
    expect((await screen.findByTestId('integrations-message')).textContent).toBe('The Zendesk secret is set.');
    // Zendesk's secret is its own: nothing new to show.
    expect((screen.getByTestId('shown-once-value') as HTMLInputElement).value).toBe('made-secret-1');

    await user.click(within(screen.getByTestId('hook-generic')).getByRole('button', { name: /Remove the Any other/ }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('refused from now on');
    await user.click(within(dialog).getByRole('button', { name: 'Remove secrets' }));
    await waitFor(() => expect(backend.removeHookSecrets).toHaveBeenCalledWith('generic'));
    expect((await screen.findByTestId('hook-generic')).textContent).toContain('No secret: deliveries refused');
  });

  it('shows a helpdesk that fails with its last error, and the status webhook’s queue', async () => {
    const { backend, user } = setup();
    backend.getIntegrations.mockResolvedValueOnce({
      helpdesks: [
        {
          kind: 'request_tracker',
          url: 'http://rt.example/',
          cursor: 1,
          last_success_at: null,
          last_change_at: null,
          lag_seconds: null,
          changes_read: 0,
          events_published: 0,
          skipped_unknown_owner: 0,
          changes_dropped: 0,
          tickets_released: 0,
          release_error: null,
          release_error_at: null,
          last_error: 'connection refused',
          last_error_at: '2026-12-07T10:00:00Z',
        },
      ],
      hooks: [],
      tokens: [],
      status_webhook: {
        url: 'https://wfm.example/status',
        pending: 3,
        delivered: 40,
        given_up: 0,
        last_delivered_at: null,
        last_error: 'HTTP 503',
        last_error_at: '2026-12-07T10:00:00Z',
      },
    });
    await user.click(await screen.findByRole('tab', { name: 'Integrations' }));
    const rt = await screen.findByTestId('helpdesk-request_tracker');
    expect(rt.textContent).toContain('Failing');
    expect(screen.getByTestId('helpdesk-error').textContent).toContain('connection refused');
    const hook = screen.getByTestId('status-webhook-admin');
    expect(hook.textContent).toContain('https://wfm.example/status');
    expect(hook.textContent).toContain('HTTP 503');
    expect(screen.getByTestId('tokens-admin').textContent).toContain('No integration has a token.');
  });

  it('has no accessibility violations on the integrations tab, with a token shown', async () => {
    const { user, view } = setup();
    await user.click(await screen.findByRole('tab', { name: 'Integrations' }));
    const form = await screen.findByTestId('new-token-form');
    await user.type(within(form).getByLabelText('Name'), 'Router 2');
    await user.click(within(form).getByLabelText(/Read who takes what/));
    await user.click(within(form).getByRole('button', { name: 'Make token' }));
    await screen.findByTestId('shown-once');
    await expectAccessible(view.container);
  });
});
