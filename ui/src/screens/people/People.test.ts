import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { expectAccessible } from '../../test/axe';
import { colleague, fakeBackend } from '../../test/fake-backend';
import People from './People.svelte';
import { hoursFromHere, localTime } from './people';

function setup() {
  const fake = fakeBackend();
  const onsessionended = vi.fn();
  const view = render(People, { backend: fake.backend, onsessionended });
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

  it('lists colleagues by name and opens the first', async () => {
    const { view } = setup();
    await waitFor(() => expect(names()).toEqual(['Kim Keen', 'Robin Rookie', 'Sam Senior']));
    const kim = screen.getByRole('option', { name: /Kim Keen/ });
    expect(kim.getAttribute('aria-selected')).toBe('true');
    expect(kim.textContent).toContain('Billing Agent · Billing');
    // The status dot says its name to screen readers.
    expect(kim.textContent).toContain('Busy');
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Kim Keen' })).toBeTruthy());
    await expectAccessible(view.container);
  });

  it('searches as the agent types, by name or email', async () => {
    const { user, backend } = setup();
    await waitFor(() => expect(names()).toHaveLength(3));
    await user.type(screen.getByLabelText('Search by name, email or phone'), 'sam.s@');
    await waitFor(() => expect(names()).toEqual(['Sam Senior']));
    expect(backend.listPeople).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'agent', q: 'sam.s@' }));
    await user.clear(screen.getByLabelText('Search by name, email or phone'));
    await user.type(screen.getByLabelText('Search by name, email or phone'), 'nobody');
    expect((await screen.findByTestId('people-none')).textContent).toBe('Nobody matches “nobody”.');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(names()).toHaveLength(3));
  });

  it('filters by team', async () => {
    const { user } = setup();
    const teams = screen.getByLabelText('Team');
    await waitFor(() => expect(within(teams).getAllByRole('option')).toHaveLength(4));
    await user.selectOptions(teams, 'Escalations');
    await waitFor(() => expect(names()).toEqual(['Sam Senior']));
  });

  it('moves through the list with the keyboard', async () => {
    const { user } = setup();
    await waitFor(() => expect(names()).toHaveLength(3));
    await user.click(screen.getByLabelText('Search by name, email or phone'));
    await user.keyboard('{ArrowDown}');
    const list = screen.getByRole('listbox');
    expect(document.activeElement).toBe(list);
    await user.keyboard('{ArrowDown}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-3');
    await waitFor(() => expect(within(record()).getByRole('heading', { name: 'Robin Rookie' })).toBeTruthy());
    await user.keyboard('{End}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-2');
    await user.keyboard('{ArrowDown}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-2');
    await user.keyboard('{Home}');
    expect(list.getAttribute('aria-activedescendant')).toBe('person-agent-4');
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
    await waitFor(() => expect(names()).toHaveLength(3));
    changeColleague('agent-2', { status: 'dnd' });
    await vi.advanceTimersByTimeAsync(30_000);
    await waitFor(() =>
      expect(screen.getByRole('option', { name: /Sam Senior/ }).textContent).toContain('Do not disturb'),
    );
  });

  it('pages through a long directory', async () => {
    const { user, setColleagues } = setup();
    await waitFor(() => expect(names()).toHaveLength(3));
    setColleagues(
      Array.from({ length: 60 }, (_, index) =>
        colleague({ id: `agent-${100 + index}`, display_name: `Agent ${String(index).padStart(2, '0')}` }),
      ),
    );
    await user.type(screen.getByLabelText('Search by name, email or phone'), 'agent');
    await waitFor(() => expect(names()).toHaveLength(50));
    await user.click(screen.getByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(names()).toHaveLength(60));
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });

  it('offers a retry when the directory cannot be loaded', async () => {
    const fake = fakeBackend();
    fake.backend.listPeople.mockRejectedValueOnce({ code: 'server_unreachable', message: 'down', field: null });
    render(People, { backend: fake.backend, onsessionended: vi.fn() });
    const user = userEvent.setup();
    const problem = await screen.findByTestId('people-load-error');
    await user.click(within(problem).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(names()).toHaveLength(3));
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
