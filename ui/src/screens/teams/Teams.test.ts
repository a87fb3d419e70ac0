import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { fakeBackend, joinRequest, teamList, waitingChange } from '../../test/fake-backend';
import Teams from './Teams.svelte';

function setup() {
  const fake = fakeBackend();
  const onsessionended = vi.fn();
  const view = render(Teams, { backend: fake.backend, outbox: fake.connectOutbox(), onsessionended });
  return { ...fake, onsessionended, view, user: userEvent.setup() };
}

/** The teams as the server lists them after a change: `id`'s membership, and its size. */
function teamsWith(id: string, membership: 'requested' | 'member' | 'lead', members?: number) {
  return teamList().map((team) =>
    team.id === id ? { ...team, membership, member_count: members ?? team.member_count } : team,
  );
}

async function teamItem(name: string) {
  const list = await screen.findByTestId('teams');
  const item = within(list)
    .getAllByRole('listitem')
    .find((entry) => within(entry).queryByRole('heading', { name }));
  if (!item) throw new Error(`no team ${name}`);
  return item;
}

describe('Teams', () => {
  afterEach(() => setLanguage('en'));

  it("lists every team with the agent's membership, size and leads", async () => {
    setup();
    const billing = await teamItem('Billing');
    expect(within(billing).getByTestId('membership').textContent).toBe('Lead');
    expect(billing.textContent).toContain('4 members');
    expect(billing.textContent).toContain('Led by Dana Demo');
    const onboarding = await teamItem('Onboarding');
    expect(within(onboarding).getByTestId('membership').textContent).toBe('Member');
    const escalations = await teamItem('Escalations');
    expect(within(escalations).queryByTestId('membership')).toBeNull();
    expect(within(escalations).getByRole('button', { name: 'Ask to join' })).toBeTruthy();
  });

  it('asks to join with a note, then shows the request as waiting', async () => {
    const { user, backend } = setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    backend.listTeams.mockResolvedValue(teamsWith('team-escalations', 'requested'));
    const note = screen.getByLabelText('Note to the leads (optional)');
    expect(document.activeElement).toBe(note);
    await user.type(note, '  I handle the VIP queue  ');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    expect(backend.requestToJoinTeam).toHaveBeenCalledWith('team-escalations', 'I handle the VIP queue');
    expect((await screen.findByTestId('teams-message')).textContent).toContain(
      'Your request to join Escalations has been sent.',
    );
    await waitFor(() => expect(backend.listTeams).toHaveBeenCalledTimes(2));
    const escalations = await teamItem('Escalations');
    await waitFor(() => expect(within(escalations).getByTestId('membership').textContent).toBe('Requested'));
    const mine = within(screen.getByTestId('my-requests')).getAllByRole('listitem');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.textContent).toContain('Escalations');
    expect(within(mine[0]!).getByTestId('request-state').textContent).toBe('Waiting for a lead');
    expect(mine[0]!.textContent).toContain('“I handle the VIP queue”');
  });

  it('says a request asked for while the server is away is kept on this computer, and shows it waiting', async () => {
    const { user, backend, changeOutbox } = setup();
    const escalations = await teamItem('Escalations');
    await user.click(within(escalations).getByRole('button', { name: 'Ask to join' }));
    // As the shell answers while the server is away: kept here, nothing from the server yet.
    backend.requestToJoinTeam.mockImplementationOnce(async (teamId, note) => {
      changeOutbox({ changes: [waitingChange(7, { kind: 'join_requested', team_id: teamId, note })], reachable: false });
      return null;
    });
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    const message = await screen.findByTestId('teams-message');
    expect(message.textContent?.trim()).toBe(
      '✓ Your request to join Escalations is saved on this computer — it will be sent when the server is back.',
    );
    expect(document.activeElement).toBe(message);
    // Not asked again: the server is away.
    expect(backend.listTeams).toHaveBeenCalledTimes(1);
    expect(within(escalations).getByTestId('membership').textContent).toBe('Waiting to sync');
    expect(within(escalations).queryByRole('button', { name: 'Ask to join' })).toBeNull();

    // Sent: the lists are read again and show it as the server has it.
    backend.listTeams.mockResolvedValue(teamsWith('team-escalations', 'requested'));
    changeOutbox({ changes: [], reachable: true });
    await waitFor(() => expect(backend.listTeams).toHaveBeenCalledTimes(2));
    await waitFor(async () =>
      expect(within(await teamItem('Escalations')).getByTestId('membership').textContent).toBe('Requested'),
    );
  });

  it('refuses an over-long note before sending, naming the limit', async () => {
    const { user, backend } = setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    const note = screen.getByLabelText('Note to the leads (optional)');
    await user.click(note);
    await user.paste('x'.repeat(501));
    expect(screen.getByText('501 of 500 characters')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    expect(screen.getByText('A note can have at most 500 characters.')).toBeTruthy();
    expect(note.getAttribute('aria-invalid')).toBe('true');
    expect(backend.requestToJoinTeam).not.toHaveBeenCalled();
  });

  it('Escape or Cancel closes the form without asking', async () => {
    const { user, backend } = setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByLabelText('Note to the leads (optional)')).toBeNull();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByLabelText('Note to the leads (optional)')).toBeNull();
    expect(backend.requestToJoinTeam).not.toHaveBeenCalled();
  });

  it('says so when the agent already asked on another computer, and shows the request', async () => {
    const fake = fakeBackend();
    fake.backend.requestToJoinTeam.mockRejectedValueOnce({
      code: 'already_requested',
      message: 'you have already asked to join this team; a lead has not decided yet',
      field: null,
    });
    render(Teams, { backend: fake.backend, outbox: fake.connectOutbox(), onsessionended: vi.fn() });
    const user = userEvent.setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    expect((await screen.findByTestId('join-error')).textContent).toBe(
      "You've already asked to join this team. A lead hasn't decided yet.",
    );
    expect(fake.backend.listTeams).toHaveBeenCalledTimes(2);
  });

  it('closes the form when the team changes under it', async () => {
    const { user, teamsChangedElsewhere } = setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    teamsChangedElsewhere(({ teams }) => {
      teams.find((team) => team.id === 'team-escalations')!.membership = 'requested';
    });
    await waitFor(async () =>
      expect(within(await teamItem('Escalations')).getByTestId('membership').textContent).toBe('Requested'),
    );
    expect(screen.queryByLabelText('Note to the leads (optional)')).toBeNull();
  });

  it('a lead approves a request with a note and it leaves the list', async () => {
    const { user, backend } = setup();
    const pending = await screen.findByTestId('requests-to-decide');
    const card = within(pending).getByRole('article', { name: 'Robin Rookie wants to join Billing' });
    expect(card.textContent).toContain('robin@agentdesk.example');
    expect(card.textContent).toContain('“I cover invoices on Fridays”');
    await user.type(within(card).getByLabelText('Note to Robin Rookie (optional)'), 'Welcome!');
    backend.listTeams.mockResolvedValue(teamsWith('team-billing', 'lead', 5));
    await user.click(within(card).getByRole('button', { name: 'Approve' }));

    expect(backend.decideJoinRequest).toHaveBeenCalledWith('request-1', true, 'Welcome!');
    expect((await screen.findByTestId('teams-message')).textContent).toContain(
      'Robin Rookie is now a member of Billing.',
    );
    expect(await screen.findByTestId('no-requests-to-decide')).toBeTruthy();
    await waitFor(async () => expect((await teamItem('Billing')).textContent).toContain('5 members'));
  });

  it('a request decided by another lead disappears', async () => {
    const { teamsChangedElsewhere } = setup();
    const card = within(await screen.findByTestId('requests-to-decide')).getByRole('article');
    // Another lead decides first, before this screen hears of it: nothing is left to decide.
    teamsChangedElsewhere((fixture) => {
      fixture.to_decide = [];
    });
    await waitFor(() => expect(screen.queryByTestId('requests-to-decide')).toBeNull());
    expect(card.isConnected).toBe(false);
    expect(screen.getByTestId('no-requests-to-decide')).toBeTruthy();
  });

  it('shows a stale decision as already decided', async () => {
    const fake = fakeBackend();
    fake.backend.decideJoinRequest.mockRejectedValueOnce({
      code: 'already_decided',
      message: 'this request was already approved',
      field: null,
    });
    render(Teams, { backend: fake.backend, outbox: fake.connectOutbox(), onsessionended: vi.fn() });
    const user = userEvent.setup();
    const card = within(await screen.findByTestId('requests-to-decide')).getByRole('article');
    await user.click(within(card).getByRole('button', { name: 'Deny' }));
    expect((await within(card).findByTestId('decision-error')).textContent).toBe(
      'Someone has already decided on this request.',
    );
    expect(fake.backend.listJoinRequests).toHaveBeenCalledTimes(2);
  });

  it('follows requests arriving for the teams the agent leads', async () => {
    const { teamsChangedElsewhere } = setup();
    await screen.findByTestId('requests-to-decide');
    teamsChangedElsewhere((fixture) => {
      fixture.to_decide = [
        joinRequest({ id: 'request-2', requester_name: 'Kim Keen', requester_id: 'agent-3' }),
        ...fixture.to_decide,
      ];
    });
    expect(await screen.findByRole('article', { name: 'Kim Keen wants to join Billing' })).toBeTruthy();
  });

  it('a decision reaches the requester: approved with the lead and the note', async () => {
    const { user, teamsChangedElsewhere } = setup();
    await user.click(within(await teamItem('Escalations')).getByRole('button', { name: 'Ask to join' }));
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByTestId('teams-message');
    teamsChangedElsewhere((fixture) => {
      fixture.teams.find((team) => team.id === 'team-escalations')!.membership = 'member';
      fixture.mine = fixture.mine.map((request) =>
        request.team_id === 'team-escalations'
          ? {
              ...request,
              state: 'approved' as const,
              decided_by: 'Sam Senior',
              decided_at: '2026-11-23T11:00:00Z',
              decision_note: 'See you at stand-up',
            }
          : request,
      );
    });
    const mine = await screen.findByTestId('my-requests');
    await waitFor(() => expect(within(mine).getByTestId('request-state').textContent).toBe('Approved'));
    expect(mine.textContent).toContain('decided by Sam Senior');
    expect(mine.textContent).toContain('Note from the lead: “See you at stand-up”');
    expect(within(await teamItem('Escalations')).getByTestId('membership').textContent).toBe('Member');
  });

  it('offers a retry when the teams cannot be loaded', async () => {
    const fake = fakeBackend();
    fake.backend.listTeams.mockRejectedValueOnce({ code: 'server_unreachable', message: 'down', field: null });
    render(Teams, { backend: fake.backend, outbox: fake.connectOutbox(), onsessionended: vi.fn() });
    const user = userEvent.setup();
    const problem = await screen.findByTestId('teams-load-error');
    expect(problem.textContent).toContain("Couldn't load the teams");
    await user.click(within(problem).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('teams')).toBeTruthy();
    expect(screen.queryByTestId('teams-load-error')).toBeNull();
  });

  it('stops listening when it closes, and is accessible', async () => {
    const { view, teamsListeners } = setup();
    await screen.findByTestId('teams');
    await waitFor(() => expect(teamsListeners()).toBe(1));
    await expectAccessible(view.container);
    view.unmount();
    expect(teamsListeners()).toBe(0);
  });

  it('speaks German', async () => {
    setLanguage('de');
    setup();
    expect(await screen.findByRole('heading', { name: 'Alle Teams' })).toBeTruthy();
    expect((await teamItem('Billing')).textContent).toContain('4 Mitglieder');
  });
});
