import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import type { Person } from '../../lib/generated/Person';
import {
  agent,
  change,
  colleague,
  customer,
  directory,
  failure,
  fakeBackend,
  mergeConflict,
  note,
  user as userRecord,
  waitingChange,
} from '../../test/fake-backend';
import People from './People.svelte';
import { hoursFromHere, localTime } from './people';

/** A page of the fixture directory as the server would answer a filter: these people, in this order. */
function pageOf(ids: string[], next_cursor: string | null = null) {
  const everyone = new Map(directory().map((person) => [person.id, person]));
  return { people: ids.map((id) => everyone.get(id)!), next_cursor };
}
const CUSTOMERS = ['user-1', 'user-2'];
const COLLEAGUES = ['agent-4', 'agent-3', 'agent-2'];
const EVERYONE = [...CUSTOMERS, ...COLLEAGUES];

function setup() {
  const fake = fakeBackend();
  const onsessionended = vi.fn();
  const view = render(People, { backend: fake.backend, outbox: fake.connectOutbox(), me: 'agent-1', onsessionended });
  return { ...fake, onsessionended, view, user: userEvent.setup() };
}

const names = () =>
  within(screen.getByTestId('people-list'))
    .getAllByRole('option')
    .map((option) => option.querySelector('.name')?.textContent);

const record = () => screen.getByTestId('person-record');

describe('People', () => {
  afterEach(() => {
    setLanguage('en');
    vi.useRealTimers();
  });

  it('lists colleagues and customers by name and opens the first', async () => {
    const { view } = setup();
    await waitFor(() => expect(names()).toEqual(['Ada Byron', 'Byron, Ada', 'Kim Keen', 'Robin Rookie', 'Sam Senior']));
    const ada = screen.getByRole('option', { name: /Ada Byron/ });
    expect(ada.getAttribute('aria-selected')).toBe('true');
    expect(ada.textContent).toContain('#1042 · Analytical Engines · ada@byron.example');
    const kim = screen.getByRole('option', { name: /Kim Keen/ });
    expect(kim.textContent).toContain('Billing Agent · Billing');
    // The status dot says its name to screen readers.
    expect(kim.textContent).toContain('Busy');
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    await expectAccessible(view.container);
  });

  it('asks for the first page of everyone, and shows it in the order given', async () => {
    const { backend } = setup();
    backend.listPeople.mockResolvedValueOnce(pageOf(['agent-2', 'user-2', 'agent-3']));
    await waitFor(() => expect(names()).toEqual(['Sam Senior', 'Byron, Ada', 'Robin Rookie']));
    expect(backend.listPeople).toHaveBeenCalledWith({
      kind: undefined,
      q: undefined,
      team: undefined,
      org: undefined,
      cursor: undefined,
      limit: 50,
    });
  });

  it('filters by kind', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    backend.listPeople.mockResolvedValue(pageOf(CUSTOMERS));
    await user.selectOptions(screen.getByLabelText('Kind'), 'Customers');
    await waitFor(() =>
      expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'user', q: undefined })),
    );
    await waitFor(() => expect(names()).toEqual(['Ada Byron', 'Byron, Ada']));
    expect((screen.getByLabelText('Team') as HTMLSelectElement).disabled).toBe(true);
    backend.listPeople.mockResolvedValue(pageOf(COLLEAGUES));
    await user.selectOptions(screen.getByLabelText('Kind'), 'Colleagues');
    await waitFor(() => expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'agent' })));
    await waitFor(() => expect(names()).toEqual(['Kim Keen', 'Robin Rookie', 'Sam Senior']));
  });

  it('searches as the agent types, and shows what the server found', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    backend.listPeople.mockResolvedValue(pageOf(['agent-2']));
    await user.type(screen.getByLabelText('Search by name, email, phone or #number'), 'sam.s@');
    await waitFor(() =>
      expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ q: 'sam.s@', kind: undefined })),
    );
    await waitFor(() => expect(names()).toEqual(['Sam Senior']));
    backend.listPeople.mockResolvedValue(pageOf([]));
    await user.clear(screen.getByLabelText('Search by name, email, phone or #number'));
    await user.type(screen.getByLabelText('Search by name, email, phone or #number'), ' nobody ');
    await waitFor(() => expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ q: 'nobody' })));
    expect((await screen.findByTestId('people-none')).textContent).toBe('Nobody matches “nobody”.');
    backend.listPeople.mockResolvedValue(pageOf(EVERYONE));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ q: undefined })));
    await waitFor(() => expect(names()).toHaveLength(5));
  });

  it('filters by team', async () => {
    const { user, backend } = setup();
    const teams = screen.getByLabelText('Team');
    await waitFor(() => expect(within(teams).getAllByRole('option')).toHaveLength(4));
    await waitFor(() => expect(names()).toHaveLength(5));
    backend.listPeople.mockResolvedValue(pageOf(['agent-2']));
    await user.selectOptions(teams, 'Escalations');
    await waitFor(() =>
      expect(backend.listPeople).toHaveBeenLastCalledWith(
        expect.objectContaining({ team: 'team-escalations', kind: 'agent' }),
      ),
    );
    await waitFor(() => expect(names()).toEqual(['Sam Senior']));
  });

  it('filters by organization, which a team choice clears', async () => {
    const { user, backend } = setup();
    const organizations = screen.getByLabelText('Organization');
    await waitFor(() => expect(within(organizations).getAllByRole('option')).toHaveLength(4));
    expect(within(organizations).getAllByRole('option').at(1)?.textContent).toBe('Analytical Engines (1)');
    await waitFor(() => expect(names()).toHaveLength(5));
    backend.listPeople.mockResolvedValue(pageOf(['user-1']));
    await user.selectOptions(organizations, 'Analytical Engines (1)');
    await waitFor(() =>
      expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ org: 'org-1', kind: 'user' })),
    );
    await waitFor(() => expect(names()).toEqual(['Ada Byron']));

    backend.listPeople.mockResolvedValue(pageOf(['agent-2']));
    await user.selectOptions(screen.getByLabelText('Team'), 'Escalations');
    await waitFor(() =>
      expect(backend.listPeople).toHaveBeenLastCalledWith(
        expect.objectContaining({ team: 'team-escalations', kind: 'agent', org: undefined }),
      ),
    );
    await waitFor(() => expect(names()).toEqual(['Sam Senior']));
    expect((organizations as HTMLSelectElement).value).toBe('');
    await user.selectOptions(screen.getByLabelText('Kind'), 'Colleagues');
    expect((organizations as HTMLSelectElement).disabled).toBe(true);
  });

  it('moves through the list with the keyboard', async () => {
    const { user } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    await user.click(screen.getByLabelText('Search by name, email, phone or #number'));
    await user.keyboard('{ArrowDown}');
    const list = screen.getByRole('listbox');
    expect(document.activeElement).toBe(list);
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-3');
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Robin Rookie' })).toBeTruthy());
    await user.keyboard('{End}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-2');
    await user.keyboard('{ArrowDown}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-2');
    await user.keyboard('{Home}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-user-1');
  });

  it("shows a colleague's contact details, and copies an email", async () => {
    const { user } = setup();
    await user.click(await screen.findByRole('option', { name: /Sam Senior/ }));
    const emails = await within(record()).findByTestId('record-emails');
    expect(emails.textContent).toContain('sam@agentdesk.example');
    expect(within(emails).getAllByText('Primary')).toHaveLength(1);
    expect(within(record()).getByTestId('record-phone').textContent).toBe('+442071838750');
    expect(within(record()).getByTestId('record-teams').textContent).toContain('Customer Care, Escalations');
    expect(within(record()).getByTestId('record-status').textContent).toContain('Available');
    await user.click(within(record()).getByRole('button', { name: 'Copy sam.s@agentdesk.example' }));
    expect(await navigator.clipboard.readText()).toBe('sam.s@agentdesk.example');
    expect(within(record()).getByTestId('copied').textContent).toContain('sam.s@agentdesk.example copied.');
  });

  it("shows a colleague's contact preferences on their record, as preferences", async () => {
    const { user, changeColleague } = setup();
    changeColleague('agent-4', {
      contact_prefs: { allow_direct_messages: false, show_phone: false, show_online_status: true, calendar_integration: true },
    });
    await user.click(await screen.findByRole('option', { name: /Sam Senior/ }));
    await waitFor(() => expect(within(record()).getByTestId('record-direct-messages').textContent?.trim()).toBe('Welcomes direct messages'));
    expect(within(record()).getByTestId('record-calendar').textContent?.trim()).toBe('Prefers no calendar invitations');

    await user.click(screen.getByRole('option', { name: /Kim Keen/ }));
    await waitFor(() => expect(within(record()).getByTestId('record-direct-messages').textContent?.trim()).toBe('Prefers no direct messages'));
    expect(within(record()).getByTestId('record-calendar').textContent?.trim()).toBe('Open to calendar invitations');
    setLanguage('de');
    await waitFor(() =>
      expect(within(record()).getByTestId('record-calendar').textContent?.trim()).toBe('Offen für Kalendereinladungen'),
    );
    expect(within(record()).getByTestId('record-direct-messages').textContent?.trim()).toBe('Möchte lieber keine Direktnachrichten');

    // Someone who shares only name and photo shows no preferences either.
    setLanguage('en');
    await user.click(screen.getByRole('option', { name: /Robin Rookie/ }));
    await waitFor(() => expect(within(record()).getByTestId('record-private')).toBeTruthy());
    expect(within(record()).queryByTestId('record-direct-messages')).toBeNull();
    expect(within(record()).queryByTestId('record-calendar')).toBeNull();
  });

  it('says what a colleague keeps private, without guessing at it', async () => {
    const { user } = setup();
    await user.click(await screen.findByRole('option', { name: /Robin Rookie/ }));
    await waitFor(() =>
      expect(within(record()).getByTestId('record-private').textContent).toBe(
        'Robin Rookie shares only their name and photo with you.',
      ),
    );
    expect(within(record()).queryByTestId('record-emails')).toBeNull();
    expect(within(record()).queryByTestId('record-status')).toBeNull();

    await user.click(screen.getByRole('option', { name: /Kim Keen/ }));
    await waitFor(() => expect(within(record()).getByTestId('record-phone-hidden').textContent).toBe('Not shared'));
  });

  it("keeps the list's statuses current", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { changeColleague } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    changeColleague('agent-2', { status: 'dnd' });
    await vi.advanceTimersByTimeAsync(30_000);
    await waitFor(() =>
      expect(screen.getByRole('option', { name: /Sam Senior/ }).textContent).toContain('Do not disturb'),
    );
  });

  it('follows a colleague\'s status live, in the list and the open record', async () => {
    const { presenceChanged, presenceListeners, user, view } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    await waitFor(() => expect(presenceListeners()).toBe(1));
    await user.click(screen.getByRole('option', { name: /Sam Senior/ }));
    await waitFor(() => expect(within(record()).getByRole('heading', { level: 2 }).textContent).toContain('Sam Senior'));

    presenceChanged({ agent_id: 'agent-2', status: 'dnd', status_until: null });
    await waitFor(() =>
      expect(screen.getByRole('option', { name: /Sam Senior/ }).textContent).toContain('Do not disturb'),
    );
    expect(within(record()).getByTestId('record-status').textContent).toContain('Do not disturb');

    // Hidden by the colleague's privacy from now on: no status at all, not a stale one.
    presenceChanged({ agent_id: 'agent-2', status: null, status_until: null });
    await waitFor(() => expect(within(record()).queryByTestId('record-status')).toBeNull());
    expect(screen.getByRole('option', { name: /Sam Senior/ }).textContent).not.toContain('Do not disturb');

    view.unmount();
    expect(presenceListeners()).toBe(0);
  });

  it('pages through a long directory with the cursor the server gave', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    const agents: Person[] = Array.from({ length: 60 }, (_, index) =>
      agent(colleague({ id: `agent-${100 + index}`, display_name: `Agent ${String(index).padStart(2, '0')}` })),
    );
    backend.listPeople.mockResolvedValueOnce({ people: agents.slice(0, 50), next_cursor: 'page-2' });
    await user.type(screen.getByLabelText('Search by name, email, phone or #number'), 'agent');
    await waitFor(() => expect(names()).toHaveLength(50));
    backend.listPeople.mockResolvedValueOnce({ people: agents.slice(50), next_cursor: null });
    await user.click(screen.getByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(names()).toHaveLength(60));
    expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ q: 'agent', cursor: 'page-2', limit: 50 }));
    expect(names().at(-1)).toBe('Agent 59');
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });

  it('shows the person a link opened first, once, even when a later page brings them', async () => {
    const fake = fakeBackend();
    const far = agent(colleague({ id: 'agent-far', display_name: 'Far Away' }));
    fake.backend.getPerson.mockResolvedValueOnce(far);
    fake.backend.listPeople.mockResolvedValueOnce({ people: directory(), next_cursor: 'page-2' });
    render(People, { backend: fake.backend, outbox: fake.connectOutbox(), me: 'agent-1', open: { id: 'agent-far' }, onsessionended: vi.fn() });
    const user = userEvent.setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Far Away' })).toBeTruthy());
    expect(fake.backend.getPerson).toHaveBeenCalledWith('agent-far');
    await waitFor(() => expect(names()[0]).toBe('Far Away'));
    fake.backend.listPeople.mockResolvedValueOnce({ people: [far], next_cursor: null });
    await user.click(await screen.findByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull());
    expect(names().filter((name) => name === 'Far Away')).toHaveLength(1);
  });

  it('offers a retry when the directory cannot be loaded', async () => {
    const fake = fakeBackend();
    fake.backend.listPeople.mockRejectedValueOnce({ code: 'server_unreachable', message: 'down', field: null });
    render(People, { backend: fake.backend, outbox: fake.connectOutbox(), me: 'agent-1', onsessionended: vi.fn() });
    const user = userEvent.setup();
    const problem = await screen.findByTestId('people-load-error');
    await user.click(within(problem).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(names()).toHaveLength(5));
  });
});

describe("a customer's record", () => {
  async function openAda() {
    const fake = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    await within(record()).findByTestId('record-notes');
    return fake;
  }

  it('shows contact details, summary and notes', async () => {
    await openAda();
    expect(within(record()).getByText('Analytical Engines', { selector: 'p' })).toBeTruthy();
    expect(within(record()).getByTestId('record-number').textContent).toBe('#1042');
    expect(within(record()).getByTestId('record-emails').textContent).toContain('ada@work.example');
    expect(within(record()).getByTestId('record-summary').textContent).toBe('Prefers email.');
    expect(within(record()).getByTestId('record-notes').textContent).toContain('Called about invoice 1842.');
    expect(within(record()).getByTestId('record-auto-replies').textContent).toBe('Automatic replies are sent');
  });

  it('makes another email primary in one step and removes one', async () => {
    const { user, backend } = await openAda();
    // The server answers the record with its emails as it now keeps them.
    const work = { address: 'ada@work.example', primary: true };
    backend.makePrimaryEmail.mockResolvedValueOnce(
      userRecord(customer({ emails: [{ address: 'ada@byron.example', primary: false }, work], version: 2 })),
    );
    backend.removeEmail.mockResolvedValueOnce(userRecord(customer({ emails: [work], version: 3 })));
    await user.click(within(record()).getByRole('button', { name: 'Make ada@work.example the primary email' }));
    expect(backend.makePrimaryEmail).toHaveBeenCalledWith('user-1', 'ada@work.example');
    const item = (address: string) =>
      [...within(record()).getByTestId('record-emails').querySelectorAll('li')].find((li) => li.textContent?.includes(address));
    await waitFor(() => expect(item('ada@work.example')?.textContent).toContain('Primary'));
    expect(item('ada@byron.example')?.textContent).not.toContain('Primary');
    // The old primary can go now; the list shows the new primary under the name.
    await user.click(within(record()).getByRole('button', { name: 'Remove ada@byron.example' }));
    expect(backend.removeEmail).toHaveBeenCalledWith('user-1', 'ada@byron.example');
    await waitFor(() => expect(within(record()).getByTestId('record-emails').textContent).not.toContain('ada@byron'));
    expect(screen.getByRole('option', { name: /Ada Byron/ }).textContent).toContain('ada@work.example');
  });

  it('says which email is taken when adding one', async () => {
    const { user, backend } = await openAda();
    backend.addEmail.mockRejectedValueOnce(
      failure('conflict', 'sam@agentdesk.example already belongs to someone', 'address'),
    );
    await user.type(within(record()).getByLabelText('Add an email address'), 'sam@agentdesk.example');
    await user.click(within(record()).getByRole('button', { name: 'Add' }));
    expect((await within(record()).findByTestId('record-banner')).textContent).toContain('already belongs to someone');
    expect(backend.addEmail).toHaveBeenCalledWith('user-1', 'sam@agentdesk.example', false);
    expect(within(record()).getByLabelText('Add an email address').getAttribute('aria-invalid')).toBe('true');
  });

  it('edits the details in place, and names a refused field', async () => {
    const { user, backend, customers } = await openAda();
    await user.click(within(record()).getByRole('button', { name: 'Edit Details' }));
    await user.type(within(record()).getByLabelText('Website'), 'not a url');
    await user.click(within(record()).getByRole('checkbox', { name: 'No automatic replies' }));
    backend.updateUser.mockRejectedValueOnce(
      failure('validation_failed', 'website must be an http or https address with a domain', 'website'),
    );
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    expect(backend.updateUser).toHaveBeenCalledWith('user-1', { website: 'not a url', suppress_auto_replies: true }, 1);
    await waitFor(() => expect(within(record()).getByLabelText('Website').getAttribute('aria-invalid')).toBe('true'));
    expect(within(record()).getByText('website must be an http or https address with a domain')).toBeTruthy();
    expect(within(record()).getByLabelText('Website').getAttribute('aria-invalid')).toBe('true');
    expect(customers()[0]!.suppress_auto_replies).toBe(false);

    await user.clear(within(record()).getByLabelText('Website'));
    await user.type(within(record()).getByLabelText('Website'), 'https://byron.example');
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(within(record()).getByTestId('record-details').textContent).toContain('https://byron.example'));
    expect(backend.updateUser).toHaveBeenLastCalledWith(
      'user-1',
      { website: 'https://byron.example', suppress_auto_replies: true },
      1,
    );
    expect(within(record()).getByTestId('record-auto-replies').textContent).toBe('Automatic replies are not sent');
  });

  it('keeps the draft when someone saved first', async () => {
    const { user, backend, changeCustomerElsewhere, customers } = await openAda();
    await user.click(within(record()).getByRole('button', { name: 'Edit Summary' }));
    changeCustomerElsewhere('user-1', { summary: 'Theirs' });
    backend.updateUser.mockRejectedValueOnce(failure('version_conflict', 'stale'));
    const summary = within(record()).getByLabelText('Summary', { selector: 'textarea' });
    await user.clear(summary);
    await user.type(summary, 'Mine');
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    expect((await within(record()).findByTestId('record-banner')).textContent).toContain('Someone else changed');
    expect((within(record()).getByLabelText('Summary', { selector: 'textarea' }) as HTMLTextAreaElement).value).toBe(
      'Mine',
    );
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(customers()[0]!.summary).toBe('Mine'));
    expect(backend.updateUser).toHaveBeenLastCalledWith('user-1', { summary: 'Mine' }, 2);
  });

  it('adds a note, and lets its author change or delete it', async () => {
    const { user } = await openAda();
    const notes = () => within(record()).getByTestId('record-notes');
    // Sam's note is Sam's: no buttons for it here.
    expect(within(notes()).queryByRole('button', { name: 'Edit' })).toBeNull();
    await user.type(within(record()).getByLabelText('Add a note'), 'Promised a callback on Monday.');
    await user.click(within(record()).getByRole('button', { name: 'Add note' }));
    await waitFor(() => expect(notes().querySelector('li')?.textContent).toContain('Promised a callback on Monday.'));
    expect(notes().querySelector('li')?.textContent).toContain('Dana Demo');
    expect(within(record()).getByText('(2 notes)')).toBeTruthy();
    await user.click(within(notes()).getByRole('button', { name: 'Edit' }));
    const editor = within(record()).getByLabelText('Edit the note');
    await user.clear(editor);
    await user.type(editor, 'Promised a callback on Tuesday.');
    await user.click(within(notes()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(notes().textContent).toContain('Promised a callback on Tuesday.'));
    await user.click(within(notes()).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(notes().textContent).not.toContain('callback'));
    expect(within(record()).getByText('(1 note)')).toBeTruthy();
  });

  it('marks a note kept on this computer as waiting, and lists the notes again once it is sent', async () => {
    const { user, backend, changeOutbox } = await openAda();
    const notes = () => within(record()).getByTestId('record-notes');
    const body = 'Promised a callback on Monday.';
    // As the shell answers while the server is away: the note as it will be, under a local id.
    backend.addNote.mockImplementationOnce(async (id, text) => {
      changeOutbox({ changes: [waitingChange(12, { kind: 'note_added', person_id: id, body: text })], reachable: false });
      return note({ id: 'local:12', person_id: id, author_id: 'agent-1', author_name: 'Dana Demo', body: text });
    });
    await user.type(within(record()).getByLabelText('Add a note'), body);
    await user.click(within(record()).getByRole('button', { name: 'Add note' }));
    await waitFor(() => expect(notes().querySelectorAll('li')).toHaveLength(2));
    const [mine, sams] = notes().querySelectorAll('li');
    expect(within(mine as HTMLElement).getByTestId('note-waiting').textContent).toBe('Waiting to sync');
    expect(within(sams as HTMLElement).queryByTestId('note-waiting')).toBeNull();
    const asked = backend.listNotes.mock.calls.length;

    // Sent: the server has it under its own id.
    backend.listNotes.mockResolvedValueOnce({
      notes: [note({ id: 'note-9', author_id: 'agent-1', author_name: 'Dana Demo', body }), note()],
      total: 2,
      next_cursor: null,
    });
    changeOutbox({ changes: [], reachable: true });
    await waitFor(() => expect(within(notes()).queryByTestId('note-waiting')).toBeNull());
    expect(backend.listNotes.mock.calls.length).toBe(asked + 1);
    expect(notes().querySelector('li')?.textContent).toContain(body);
  });

  it('keeps an edit of a note that waits to be sent, though the note could not be read back', async () => {
    const { user, backend, changeOutbox } = setup();
    // The agent's own note, on a page not kept on this computer.
    backend.listNotes.mockResolvedValue({
      notes: [note({ id: 'note-5', author_id: 'agent-1', author_name: 'Dana Demo', body: 'Old words.' })],
      total: 1,
      next_cursor: null,
    });
    const notes = () => within(record()).getByTestId('record-notes');
    await waitFor(() => expect(notes().textContent).toContain('Old words.'));
    const unreachable = failure('server_unreachable', 'the edit is kept on this computer and will be sent when the server is back');

    // Not kept: the failure is told.
    backend.editNote.mockRejectedValueOnce(unreachable);
    await user.click(within(notes()).getByRole('button', { name: 'Edit' }));
    await user.clear(within(record()).getByLabelText('Edit the note'));
    await user.type(within(record()).getByLabelText('Edit the note'), 'New words.');
    await user.click(within(notes()).getByRole('button', { name: 'Save' }));
    expect((await within(record()).findByTestId('notes-error')).textContent).toContain("Can't reach the server");

    // Kept in the outbox: shown as it will be.
    backend.editNote.mockRejectedValueOnce(unreachable);
    changeOutbox({
      changes: [waitingChange(8, { kind: 'note_edited', note_id: 'note-5', body: 'New words.' })],
      reachable: false,
    });
    await user.click(within(notes()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(within(record()).queryByLabelText('Edit the note')).toBeNull());
    expect(notes().textContent).toContain('New words.');
    expect(within(record()).queryByTestId('notes-error')).toBeNull();
  });

  it('shows the values changes replaced on this record only, and restores one', async () => {
    const { user, backend, changeOutbox } = await openAda();
    changeOutbox({
      conflicts: [
        mergeConflict({ id: 11, target: 'person:user-1', field: 'summary', replaced: 'Moved to Lyon', applied: 'Prefers email.' }),
        mergeConflict({ id: 12, target: 'person:user-1', field: 'custom_fields/field-seats', replaced: '12', applied: null }),
        mergeConflict({ id: 13, target: 'person:user-2', field: 'phone', replaced: '+1 555 0100', applied: null }),
      ],
    });
    const summary = await within(record()).findByTestId('conflict-summary');
    expect(summary.textContent).toContain('Replaced “Moved to Lyon” — your change was applied.');
    // A custom field cleared by the change is listed with what it replaced.
    const seats = within(record()).getByTestId('conflict-custom_fields/field-seats');
    expect(seats.textContent).toContain('Replaced “12”');
    expect(within(record()).getByRole('button', { name: 'Keep your change to Seats' })).toBeTruthy();
    expect(within(record()).queryByTestId('conflict-phone')).toBeNull();
    await expectAccessible(record());

    await user.click(within(record()).getByTestId('restore-summary'));
    expect(backend.restoreReplaced).toHaveBeenCalledWith(11);
    await waitFor(() => expect(within(record()).getByTestId('record-summary').textContent).toBe('Moved to Lyon'));
    expect(backend.getPerson).toHaveBeenLastCalledWith('user-1');
    expect(within(record()).queryByTestId('conflict-summary')).toBeNull();
    expect(within(record()).getByTestId('conflict-custom_fields/field-seats')).toBeTruthy();
  });

  it('says an edit is kept on this computer while the server is away', async () => {
    const { user, changeOutbox } = await openAda();
    changeOutbox({
      changes: [waitingChange(3, { kind: 'customer', person_id: 'user-1', patch: { summary: 'Mine' }, version: 1 })],
      reachable: false,
    });
    await user.click(within(record()).getByRole('button', { name: 'Edit Summary' }));
    const summary = within(record()).getByLabelText('Summary', { selector: 'textarea' });
    await user.clear(summary);
    await user.type(summary, 'Mine');
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(within(record()).getByTestId('record-banner').textContent).toBe(
        'Saved on this computer — will sync when the server is back',
      ),
    );
    expect(within(record()).getByTestId('record-summary').textContent).toBe('Mine');
  });
});

describe('a new customer', () => {
  it('asks for a name and an email first, shows a refused field at the field, and opens the record made', async () => {
    const { user, backend, view } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    await user.click(screen.getByRole('button', { name: 'New customer' }));
    const form = await screen.findByTestId('new-customer');
    expect(document.activeElement).toBe(within(form).getByLabelText(/^Name/));
    await user.click(within(form).getByRole('button', { name: 'Create customer' }));
    expect(within(form).getByText('Give the customer a name.')).toBeTruthy();
    expect(within(form).getByText('Give an email address: customers are found by it.')).toBeTruthy();
    expect(backend.createUser).not.toHaveBeenCalled();
    await expectAccessible(view.container);

    await user.type(within(form).getByLabelText(/^Name/), ' Mia Hoffmann ');
    await user.type(within(form).getByLabelText(/^Email/), 'mia@example.com');
    await user.selectOptions(within(form).getByLabelText('Organization'), 'Acme');
    await user.type(within(form).getByLabelText('Phone'), '+49 30 1234');
    backend.createUser.mockRejectedValueOnce(failure('validation_failed', 'phone: not a number in Germany', 'phone'));
    await user.click(within(form).getByRole('button', { name: 'Create customer' }));
    expect(await within(form).findByText('phone: not a number in Germany')).toBeTruthy();
    expect(within(form).getByLabelText('Phone').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(within(form).getByLabelText('Phone'));

    const phone = within(form).getByLabelText('Phone');
    await user.clear(phone);
    await user.type(phone, '+49 30 12345678');
    await user.click(within(form).getByRole('button', { name: 'Create customer' }));
    expect(backend.createUser).toHaveBeenLastCalledWith({
      name: 'Mia Hoffmann',
      emails: ['mia@example.com'],
      organization: 'Acme',
      phone: '+49 30 12345678',
    });
    expect((await screen.findByTestId('new-customer-created')).textContent).toBe('Mia Hoffmann was added as #2001.');
    expect(screen.queryByTestId('new-customer')).toBeNull();
    expect(names()[0]).toBe('Mia Hoffmann');
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Mia Hoffmann' })).toBeTruthy());
  });

  it('leaves the form without making anything', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(names()).toHaveLength(5));
    await user.click(screen.getByRole('button', { name: 'New customer' }));
    await user.type(within(await screen.findByTestId('new-customer')).getByLabelText(/^Name/), 'Nobody');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('new-customer')).toBeNull();
    expect(backend.createUser).not.toHaveBeenCalled();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
  });
});

describe("a customer's usergroups", () => {
  it('sets the groups as a list of names', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    expect(within(record()).getByTestId('record-usergroups').textContent).toBe('VIP');
    await user.click(within(record()).getByRole('button', { name: 'Edit Details' }));
    const groups = within(record()).getByLabelText('Usergroups');
    await user.clear(groups);
    await user.type(groups, 'VIP, Beta testers , ');
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(within(record()).getByTestId('record-usergroups').textContent).toBe('VIP, Beta testers'));
    expect(backend.updateUser).toHaveBeenLastCalledWith('user-1', { usergroups: ['VIP', 'Beta testers'] }, 1);
  });

  it('ticks groups from the administrators’ list once there is one, keeping a group the list lacks until unticked', async () => {
    const { user, backend, view } = setup();
    backend.listUsergroups.mockResolvedValue({
      usergroups: [
        { id: 'group-1', name: 'Partners', people: 0 },
        { id: 'group-2', name: 'Beta testers', people: 3 },
      ],
    });
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    await user.click(within(record()).getByRole('button', { name: 'Edit Details' }));
    const choices = within(record()).getByRole('group', { name: 'Usergroups' });
    expect(within(record()).queryByRole('textbox', { name: 'Usergroups' })).toBeNull();
    const boxes = within(choices).getAllByRole('checkbox') as HTMLInputElement[];
    expect(boxes.map((box) => [box.value, box.checked])).toEqual([
      ['Beta testers', false],
      ['Partners', false],
      ['VIP', true],
    ]);
    expect(choices.textContent).toContain('not on the list');
    await expectAccessible(view.container);
    await user.click(within(choices).getByRole('checkbox', { name: /Partners/ }));
    await user.click(within(choices).getByRole('checkbox', { name: /VIP/ }));
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(backend.updateUser).toHaveBeenLastCalledWith('user-1', { usergroups: ['Partners'] }, 1));
    await waitFor(() => expect(within(record()).getByTestId('record-usergroups').textContent).toBe('Partners'));
  });
});

describe("a customer's custom fields", () => {
  it('shows only fields with a value until edited, and saves a new one to the change log', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    const details = within(record()).getByTestId('record-details');
    expect(within(details).getByTestId('custom-value-Plan').textContent).toBe('Team');
    expect(within(details).queryByText('Seats')).toBeNull();

    await user.click(within(record()).getByRole('button', { name: 'Edit Details' }));
    await user.type(within(record()).getByLabelText('Seats'), 'a dozen');
    backend.updateUser.mockRejectedValueOnce(
      failure('validation_failed', 'Seats must be a number', 'custom_fields.field-seats'),
    );
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    expect(await within(record()).findByText('Seats must be a number')).toBeTruthy();
    expect(within(record()).getByLabelText('Seats').getAttribute('aria-invalid')).toBe('true');

    const seats = within(record()).getByLabelText('Seats');
    await user.clear(seats);
    await user.type(seats, '12');
    await user.selectOptions(within(record()).getByLabelText('Plan'), 'Free');
    // The server's log of it names custom fields by a prefix the UI leaves out.
    backend.listChanges.mockResolvedValue({
      changes: [change('custom:Plan', 'Team', 'Free'), change('custom:Seats', null, '12')],
    });
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(within(record()).getByTestId('custom-value-Seats').textContent).toBe('12'));
    expect(within(record()).getByTestId('custom-value-Plan').textContent).toBe('Free');
    expect(backend.updateUser).toHaveBeenLastCalledWith('user-1', { custom_fields: { 'field-plan': 'Free', 'field-seats': '12' } }, 1);
    await user.click(within(record()).getByRole('button', { name: 'Change log' }));
    const log = await within(record()).findByTestId('record-changes');
    await waitFor(() => expect(log.textContent).toContain('Seats'));
    expect(log.textContent).toContain('Team → Free');
    expect(log.textContent).not.toContain('custom:');
  });
});

describe('merging', () => {
  it("merges another record into this one after saying what happens", async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    backend.listPeople.mockResolvedValueOnce(pageOf(['user-1', 'user-2']));
    await user.type(within(record()).getByLabelText('Search for the other record'), 'byron');
    const matches = await within(record()).findByTestId('merge-matches');
    expect(backend.listPeople).toHaveBeenLastCalledWith({ kind: 'user', q: 'byron', limit: 6 });
    // Not the record itself.
    expect(within(matches).getAllByRole('listitem')).toHaveLength(1);
    const merged = pageOf(['user-1']).people[0]!;
    if (merged.kind === 'user') merged.emails.push({ address: 'ada@home.example', primary: false });
    backend.mergeUsers.mockResolvedValueOnce(merged);
    await user.click(within(matches).getByRole('button', { name: 'Merge Byron, Ada into Ada Byron' }));
    const dialog = await screen.findByRole('dialog', { name: 'Merge Byron, Ada into Ada Byron?' });
    expect(dialog.textContent).toContain("Byron, Ada's record is removed");
    await user.click(within(dialog).getByRole('button', { name: 'Merge' }));

    expect(backend.mergeUsers).toHaveBeenCalledWith('user-1', 'user-2');
    await waitFor(() => expect(names()).toEqual(['Ada Byron', 'Kim Keen', 'Robin Rookie', 'Sam Senior']));
    expect(within(record()).getByTestId('record-emails').textContent).toContain('ada@home.example');
    expect(within(record()).getByTestId('record-banner').textContent).toBe('The records were merged.');
  });

  it('changes nothing when the agent cancels', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    await user.type(within(record()).getByLabelText('Search for the other record'), 'byron');
    const matches = await within(record()).findByTestId('merge-matches');
    await user.click(within(matches).getByRole('button', { name: /Merge Byron, Ada/ }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(backend.mergeUsers).not.toHaveBeenCalled();
    expect(names()).toHaveLength(5);
  });
});

describe("a customer's history", () => {
  it('fetches the history again after a note or an edit, and shows what it says', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Ada Byron' })).toBeTruthy());
    const activity = await within(record()).findByTestId('record-activity');
    expect(activity.textContent).toContain('Sam Senior wrote a note');

    const mine = note({ id: 'note-9', author_id: 'agent-1', author_name: 'Dana Demo', body: 'Sent the invoice again.', created_at: '2026-11-24T09:00:00Z' });
    backend.listActivity.mockResolvedValue({ activity: [{ kind: 'note', ...mine }, { kind: 'note', ...note() }] });
    const calls = backend.listActivity.mock.calls.length;
    await user.type(within(record()).getByLabelText('Add a note'), 'Sent the invoice again.');
    await user.click(within(record()).getByRole('button', { name: 'Add note' }));
    await waitFor(() =>
      expect(within(record()).getByTestId('record-activity').querySelector('li')?.textContent).toContain(
        'Dana Demo wrote a note',
      ),
    );
    expect(backend.listActivity.mock.calls.length).toBeGreaterThan(calls);
    expect(backend.listActivity).toHaveBeenLastCalledWith('user-1');

    backend.listChanges.mockResolvedValue({ changes: [change('im', null, 'ada@chat.example')] });
    await user.click(within(record()).getByRole('button', { name: 'Edit Details' }));
    await user.clear(within(record()).getByLabelText('Instant messaging'));
    await user.type(within(record()).getByLabelText('Instant messaging'), 'ada@chat.example');
    await user.click(within(record()).getByRole('button', { name: 'Save' }));
    await user.click(within(record()).getByRole('button', { name: 'Change log' }));
    const log = await within(record()).findByTestId('record-changes');
    await waitFor(() => expect(within(log).getAllByRole('row')).toHaveLength(2));
    expect(backend.updateUser).toHaveBeenLastCalledWith('user-1', { im: 'ada@chat.example' }, 1);
    const row = within(log).getAllByRole('row')[1]!;
    expect(row.textContent).toContain('Dana Demo');
    expect(row.textContent).toContain('Instant messaging');
    expect(row.textContent).toContain('— → ada@chat.example');
  });
});

describe('local time', () => {
  it("is the person's own clock, and how far it is from here", () => {
    const noon = Date.UTC(2026, 0, 15, 12, 0);
    expect(localTime('Asia/Kolkata', 'en-GB', noon)).toBe('17:30');
    expect(localTime('Not/AZone', 'en-GB', noon)).toBeNull();
    expect(localTime(null, 'en-GB', noon)).toBeNull();
    const here = -new Date(noon).getTimezoneOffset() / 60;
    expect(hoursFromHere('Asia/Kolkata', noon)).toBe(5.5 - here);
    expect(hoursFromHere('UTC', noon)).toBe(-here);
  });
});
