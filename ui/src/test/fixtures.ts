// Fixture data for the UI's tests: what the test double answers unless a test scripts
// another answer. It is made-up data, not what any server would decide; the order of each
// list is the fixture's own.

import { ADMIN_ONLY_EVENT_TYPES, EVENT_TYPES } from '../lib/generated/constants';
import type { AdministeredTeam } from '../lib/generated/AdministeredTeam';
import type { AdministeredAgent } from '../lib/generated/AdministeredAgent';
import type { AgentSummary } from '../lib/generated/AgentSummary';
import type { PendingDepartmentRequest } from '../lib/generated/PendingDepartmentRequest';
import type { Activity } from '../lib/generated/Activity';
import type { Alert } from '../lib/generated/Alert';
import type { AvatarPolicy } from '../lib/generated/AvatarPolicy';
import type { Change } from '../lib/generated/Change';
import type { Colleague } from '../lib/generated/Colleague';
import type { Customer } from '../lib/generated/Customer';
import type { JoinRequest } from '../lib/generated/JoinRequest';
import type { LocalChange } from '../lib/generated/LocalChange';
import type { MergeConflict } from '../lib/generated/MergeConflict';
import type { Note } from '../lib/generated/Note';
import type { NotificationPrefs } from '../lib/generated/NotificationPrefs';
import type { PasswordCheck } from '../lib/generated/PasswordCheck';
import type { PasswordPolicy } from '../lib/generated/PasswordPolicy';
import type { PasswordRule } from '../lib/generated/PasswordRule';
import type { Person } from '../lib/generated/Person';
import type { PersonFile } from '../lib/generated/PersonFile';
import type { PrivacyPreview } from '../lib/generated/PrivacyPreview';
import type { Profile } from '../lib/generated/Profile';
import type { SelfTestReport } from '../lib/generated/SelfTestReport';
import type { SessionInfo } from '../lib/generated/SessionInfo';
import type { SessionsEnded } from '../lib/generated/SessionsEnded';
import type { SignInAttempt } from '../lib/generated/SignInAttempt';
import type { Team } from '../lib/generated/Team';
import type { Integrations } from '../lib/generated/Integrations';
import type { TicketSummary } from '../lib/generated/TicketSummary';
import type { WaitingChange } from '../lib/generated/WaitingChange';
import type { AudioDevice, AudioState, Direction, MeterReading } from '../screens/devices/types';

// The signed-in agent, the server's policy, sessions.

export function profile(overrides: Partial<Profile> = {}): Profile {
  return {
    id: 'agent-1',
    email: 'dana@agentdesk.example',
    emails: [
      { address: 'dana@agentdesk.example', primary: true },
      { address: 'dana.demo@agentdesk.example', primary: false },
    ],
    display_name: 'Dana Demo',
    job_title: 'Support Specialist',
    department: 'Customer Care',
    department_request: null,
    phone: null,
    mobile: null,
    office_location: null,
    timezone: 'Europe/Berlin',
    language: 'en',
    signature: null,
    use_signature: false,
    operator_id: null,
    avatar_url: null,
    visibility: 'public',
    contact_prefs: { allow_direct_messages: true, show_phone: true, show_online_status: true, calendar_integration: false },
    status: 'available',
    status_until: null,
    is_admin: false,
    updated_at: '2026-11-23T10:00:00Z',
    ...overrides,
  };
}

export const policy: PasswordPolicy = {
  min_length: 8,
  max_length: 128,
  rules: ['min_length', 'uppercase', 'lowercase', 'digit', 'symbol', 'not_current', 'not_guessable', 'max_length'],
  min_score: 2,
};

export const avatarPolicy: AvatarPolicy = {
  max_bytes: 5_000_000,
  accepted_types: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'],
  max_side: 8000,
  max_pixels: 40_000_000,
  min_side: 200,
};

/** A check result for the fixture policy: every rule passed but those `failing`. */
export function passwordCheck(failing: PasswordRule[] = [], score = 4): PasswordCheck {
  return { rules: policy.rules.map((rule) => ({ rule, passed: !failing.includes(rule) })), score };
}

/** A file as the agent picks it: its first bytes are `format`'s, `type` is what the OS says. */
export function imageFile(name: string, format: 'image/png' | 'image/jpeg' | 'text/plain' = 'image/png', type = format) {
  const head = { 'image/png': [0x89, 0x50, 0x4e, 0x47], 'image/jpeg': [0xff, 0xd8, 0xff], 'text/plain': [0x68, 0x69] };
  return new File([new Uint8Array([...head[format], 0, 1, 2, 3])], name, { type });
}

/** What the fake answers for a stored photo. */
export function photoData(url: string): string {
  return `data:image/png;base64,${btoa(url)}`;
}

export function sessions(): SessionInfo[] {
  const session = (id: string, seen: string, client: string | null, version: string | null, ip: string | null) => ({
    id,
    created_at: '2026-11-18T07:30:00Z',
    last_seen_at: seen,
    client_name: client,
    client_version: version,
    ip_address: ip,
    current: id === 'session-this',
  });
  return [
    session('session-this', '2026-11-23T10:00:00Z', 'Agent Desk', '0.1.0', '127.0.0.1'),
    session('session-laptop', '2026-11-22T16:45:00Z', 'Agent Desk', '0.0.9', '198.51.100.23'),
    session('session-script', '2026-11-02T12:00:00Z', null, null, null),
  ];
}

/** What changing the password or signing out other sessions answers: how many sessions
 * the server ended, which is its to say; a test that needs a count scripts it. */
export function sessionsEnded(count = 0): SessionsEnded {
  return { signed_out_sessions: count };
}

export function signIns(): SignInAttempt[] {
  return [
    { at: '2026-11-23T09:59:00Z', succeeded: true, client_name: 'Agent Desk', ip_address: '127.0.0.1' },
    { at: '2026-11-23T03:12:00Z', succeeded: false, client_name: null, ip_address: '203.0.113.66' },
  ];
}

/** A preview with everything shown to everyone; the Privacy tests script their own. */
export function privacyPreview(overrides: Partial<PrivacyPreview> = {}): PrivacyPreview {
  const all = { details: true, phones: true, status: true };
  return { same_department: { ...all }, other_department: { ...all }, ...overrides };
}

// audio devices.

export function audioDevice(id: string, name: string, direction: Direction, isDefault = false): AudioDevice {
  const channels = direction === 'input' ? 1 : 2;
  return { id, name, direction, is_default: isDefault, formats: [{ channels, min_rate: 8000, max_rate: 48000, sample_format: 'f32' }] };
}

/** A laptop with a headset plugged in, defaults first; everything on the system default,
 * which is the built-in device. */
export function audioState(): AudioState {
  const list = {
    host: 'PulseAudio',
    inputs: [audioDevice('pulse:builtin-mic', 'Built-in Microphone', 'input', true), audioDevice('pulse:jabra-in', 'Jabra Evolve2 65', 'input')],
    outputs: [
      audioDevice('pulse:builtin-speakers', 'Built-in Speakers', 'output', true),
      audioDevice('pulse:jabra-out', 'Jabra Evolve2 65', 'output'),
      audioDevice('pulse:hdmi', 'HDMI Display', 'output'),
    ],
  };
  return {
    devices: list,
    choices: { microphone: { kind: 'system_default' }, speaker: { kind: 'system_default' }, alerts: { kind: 'system_default' }, alert_volume: 0.8 },
    microphone: { device: list.inputs[0]!, fallback: false },
    speaker: { device: list.outputs[0]!, fallback: false },
    alerts: { device: list.outputs[0]!, fallback: false },
  };
}

/** A meter reading with nothing to hint at unless overridden. */
export function reading(overrides: Partial<MeterReading> = {}): MeterReading {
  return { peak_dbfs: -12, rms_dbfs: -24, no_signal: false, too_quiet: false, clipping: false, ...overrides };
}

// alerts and notification preferences.

/** A new agent's rows, fixture data: one per configurable type in the generated order, the
 * admin-only flag from the generated constant, theirs all on and the admin-only ones off. */
export function defaultPrefs(admin = false): NotificationPrefs {
  const events = EVENT_TYPES.filter((type) => type !== 'profile.updated').map((type) => {
    const admin_only = ADMIN_ONLY_EVENT_TYPES.includes(type);
    return { type, desktop: !admin_only, sound: !admin_only, email: admin_only ? ('off' as const) : ('immediate' as const), admin_only, locked: [], lock_reason: null };
  });
  return { events, quiet_hours: { enabled: false, start: '22:00', end: '07:00' }, can_configure_admin_only: admin };
}

/** An alert as the backend lists it; newest alerts have the highest seq. */
export function alert(overrides: Partial<Alert> = {}): Alert {
  const seq = overrides.seq ?? 1;
  return {
    seq,
    type: 'ticket.assigned',
    priority: 'normal',
    title: `Ticket #${1000 + seq} assigned to you`,
    body: 'Printer on floor 3 is out of toner',
    ticket_id: `${1000 + seq}`,
    url: `https://desk.example.com/tickets/${1000 + seq}`,
    created_at: '2026-11-23T09:55:00Z',
    read: false,
    outcome: 'notified',
    ...overrides,
  };
}

/** Every part of the self-test works. */
export function selfTestOk(): SelfTestReport {
  return {
    checks: [
      { item: 'notification_service', problem: null, detail: 'GNOME Shell 46.0' },
      { item: 'notification_shown', problem: null, detail: 'notification 12' },
      { item: 'sound', problem: null, detail: 'Built-in Speakers' },
    ],
  };
}

// teams and the directory.

export function teamList(): Team[] {
  return [
    { id: 'team-billing', name: 'Billing', membership: 'lead', member_count: 4, leads: ['Dana Demo'] },
    { id: 'team-escalations', name: 'Escalations', membership: 'none', member_count: 3, leads: ['Sam Senior'] },
    { id: 'team-onboarding', name: 'Onboarding', membership: 'member', member_count: 6, leads: ['Lee Lead'] },
  ];
}

/** Teams as administrators manage them, fixture data: Billing with its lead and a member,
 * Escalations empty. */
export function administeredTeams(): AdministeredTeam[] {
  return [
    {
      id: 'team-billing',
      name: 'Billing',
      members: [
        { agent_id: 'agent-1', display_name: 'Dana Demo', email: 'dana@agentdesk.example', role: 'lead', active: true },
        { agent_id: 'agent-2', display_name: 'Ada Lovelace', email: 'ada@agentdesk.example', role: 'member', active: true },
      ],
      pending_requests: 1,
    },
    { id: 'team-escalations', name: 'Escalations', members: [], pending_requests: 0 },
  ];
}

/** A server that follows Request Tracker, takes generic webhooks and has one token. */
export function integrations(overrides: Partial<Integrations> = {}): Integrations {
  return {
    helpdesks: [
      {
        kind: 'request_tracker',
        url: 'http://rt.example/',
        cursor: 4120,
        last_success_at: '2026-12-07T09:59:50Z',
        last_change_at: '2026-12-07T09:58:00Z',
        lag_seconds: 10,
        changes_read: 312,
        events_published: 97,
        skipped_unknown_owner: 4,
        changes_dropped: 1,
        tickets_released: 2,
        release_error: null,
        release_error_at: null,
        last_error: null,
        last_error_at: null,
      },
    ],
    hooks: [
      {
        source: 'generic',
        secrets: 1,
        accepted: 12,
        refused: 1,
        last_accepted_at: '2026-12-07T09:40:00Z',
        last_refused_at: '2026-12-07T08:00:00Z',
        last_refusal: 'the x-agent-desk-signature header does not match the body and the secret',
        secret_set_at: '2026-12-01T10:00:00Z',
        secret_set_by: 'Dana Demo',
        previous_secret_until: null,
      },
    ],
    tokens: [
      {
        id: 'token-router',
        name: 'Router',
        scopes: ['routing:read'],
        created_at: '2026-12-02T10:00:00Z',
        created_by: null,
        last_used_at: '2026-12-07T09:59:00Z',
      },
    ],
    status_webhook: null,
    ...overrides,
  };
}

export function joinRequest(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    id: 'request-1',
    team_id: 'team-billing',
    team_name: 'Billing',
    requester_id: 'agent-2',
    requester_name: 'Robin Rookie',
    requester_email: 'robin@agentdesk.example',
    note: 'I cover invoices on Fridays',
    state: 'open',
    created_at: '2026-11-23T09:00:00Z',
    decided_by: null,
    decided_at: null,
    decision_note: null,
    ...overrides,
  };
}

export function colleague(overrides: Partial<Colleague> = {}): Colleague {
  return {
    id: 'agent-2',
    display_name: 'Sam Senior',
    avatar_url: null,
    emails: [
      { address: 'sam@agentdesk.example', primary: true },
      { address: 'sam.s@agentdesk.example', primary: false },
    ],
    job_title: 'Team Lead',
    department: 'Customer Care',
    office_location: 'London',
    timezone: 'Europe/London',
    language: 'en',
    teams: ['Customer Care', 'Escalations'],
    visibility: 'public',
    contact_prefs: { allow_direct_messages: true, show_phone: true, show_online_status: true, calendar_integration: false },
    phone: '+442071838750',
    mobile: null,
    status: 'available',
    status_until: null,
    ...overrides,
  };
}

export function customer(overrides: Partial<Customer> = {}): Customer {
  return {
    id: 'user-1',
    number: 1042,
    name: 'Ada Byron',
    emails: [
      { address: 'ada@byron.example', primary: true },
      { address: 'ada@work.example', primary: false },
    ],
    organization: { id: 'org-1', name: 'Analytical Engines' },
    phone: '+442071838750',
    website: null,
    im: null,
    twitter: null,
    linkedin: null,
    facebook: null,
    address: null,
    summary: 'Prefers email.',
    timezone: 'Europe/London',
    language: null,
    suppress_auto_replies: false,
    usergroups: ['VIP'],
    custom_fields: [
      { field: { id: 'field-plan', name: 'Plan', kind: 'choice', choices: ['Free', 'Team'] }, value: 'Team' },
      { field: { id: 'field-seats', name: 'Seats', kind: 'number', choices: [] }, value: null },
    ],
    version: 1,
    updated_at: '2026-11-23T10:00:00Z',
    ...overrides,
  };
}

export const agent = (person: Colleague): Person => ({ kind: 'agent', ...person });
export const user = (person: Customer): Person => ({ kind: 'user', ...person });

/** The directory, in the order the fixture page lists it: Robin shares only name and photo
 * with the signed-in agent, Kim no phone numbers. */
export function directory(): Person[] {
  return [
    user(customer()),
    user(
      customer({
        id: 'user-2',
        number: 1043,
        name: 'Byron, Ada',
        emails: [{ address: 'ada@home.example', primary: true }],
        organization: null,
        summary: null,
        usergroups: [],
        custom_fields: [],
      }),
    ),
    agent(
      colleague({
        id: 'agent-4',
        display_name: 'Kim Keen',
        emails: [{ address: 'kim@agentdesk.example', primary: true }],
        job_title: 'Billing Agent',
        department: 'Billing',
        timezone: 'America/New_York',
        teams: ['Billing'],
        phone: undefined,
        mobile: undefined,
        status: 'busy',
      }),
    ),
    agent({ id: 'agent-3', display_name: 'Robin Rookie', avatar_url: null }),
    agent(colleague()),
  ];
}

/** A file kept on a customer's record. */
export function personFile(overrides: Partial<PersonFile> = {}): PersonFile {
  return {
    id: 'file-1',
    person_id: 'user-1',
    name: 'contract.pdf',
    content_type: 'application/pdf',
    size: 245_000,
    uploaded_by: 'agent-2',
    uploaded_by_name: 'Sam Senior',
    uploaded_at: '2026-11-21T15:00:00Z',
    ...overrides,
  };
}

export function ticket(overrides: Partial<TicketSummary> = {}): TicketSummary {
  return {
    ticket_id: '1000',
    title: 'Invoice 1842 charged twice',
    last_event: 'ticket.customer_reply',
    url: 'https://desk.example/tickets/1000',
    opened_at: '2026-11-20T08:00:00Z',
    updated_at: '2026-11-23T09:30:00Z',
    events: 4,
    ...overrides,
  };
}

/** Each person's tickets, in the order the fixture lists them (newest update first). */
export function ticketsOf(): Record<string, TicketSummary[]> {
  return {
    'user-1': [
      ticket(),
      ticket({ ticket_id: '999', title: 'Export to CSV', last_event: 'ticket.created', url: 'https://desk.example/tickets/999', opened_at: '2026-11-21T12:00:00Z', updated_at: '2026-11-21T12:00:00Z', events: 1 }),
      ticket({ ticket_id: '42', title: 'Cannot sign in', last_event: 'ticket.updated', url: null, opened_at: '2026-10-01T10:00:00Z', updated_at: '2026-10-02T11:00:00Z', events: 2 }),
    ],
    'agent-2': [
      ticket({ ticket_id: '1001', title: 'Refund for order 77', last_event: 'ticket.assigned', url: 'https://desk.example/tickets/1001', opened_at: '2026-11-22T08:00:00Z', updated_at: '2026-11-22T08:05:00Z', events: 1 }),
    ],
  };
}

export function note(overrides: Partial<Note> = {}): Note {
  return {
    id: 'note-1',
    person_id: 'user-1',
    author_id: 'agent-2',
    author_name: 'Sam Senior',
    body: 'Called about invoice 1842.',
    created_at: '2026-11-22T09:00:00Z',
    updated_at: '2026-11-22T09:00:00Z',
    ...overrides,
  };
}

/** A change of a record by the signed-in agent. */
export function change(field: string, old_value: string | null, new_value: string | null, at = '2026-11-24T09:00:00Z'): Change {
  return { changed_at: at, actor_id: 'agent-1', actor_name: 'Dana Demo', field, old_value, new_value };
}

/** Ada's activity stream as the fixture has it: a ticket's last event, then Sam's note. */
export function activity(): Activity[] {
  const newest = ticket();
  return [
    { kind: 'ticket', ticket_id: newest.ticket_id, event_type: newest.last_event, title: newest.title, url: newest.url, at: newest.updated_at },
    { kind: 'note', ...note() },
  ];
}

// The outbox: changes kept on this computer until the server has them.

/** A change waiting to be sent (by default a profile's job title, made on version 1). */
export function waitingChange(
  seq: number,
  change: LocalChange = { kind: 'profile', patch: { job_title: 'Team Lead' }, version: 1 },
  overrides: Partial<WaitingChange> = {},
): WaitingChange {
  return {
    seq,
    change,
    created_at: '2026-11-24T09:00:00Z',
    refused: null,
    ...overrides,
  };
}

/** A change the server refused for good, with the server's reason. */
export function refusedChange(
  seq: number,
  change?: LocalChange,
  message = 'job_title: too long',
): WaitingChange {
  return waitingChange(seq, change, {
    refused: { status: 400, code: 'validation_failed', message, field: null },
  });
}

/** A field of the agent's profile whose value someone else had changed, which a change of
 * the agent's replaced. */
export function mergeConflict(overrides: Partial<MergeConflict> = {}): MergeConflict {
  return { id: 1, target: 'profile', field: 'job_title', replaced: 'Team Lead', applied: 'Support Specialist', ...overrides };
}

// ---------------------------------------------------------------------------------------
// Administration

/** An agent in the administrators' list. */
export function agentSummary(overrides: Partial<AgentSummary> = {}): AgentSummary {
  return {
    id: 'agent-2',
    display_name: 'Ada Lovelace',
    email: 'ada@agentdesk.example',
    department: 'Billing',
    job_title: 'Analyst',
    teams: ['Billing'],
    status: 'available',
    is_admin: false,
    active: true,
    last_sign_in_at: '2026-11-23T08:30:00Z',
    avatar_url: null,
    ...overrides,
  };
}

/** The agents an administrator sees: Dana (who administers), Ada and a deactivated Max. */
export function agentList(): AgentSummary[] {
  return [
    agentSummary({ id: 'agent-1', display_name: 'Dana Demo', email: 'dana@agentdesk.example', department: 'Customer Care', is_admin: true, teams: [] }),
    agentSummary(),
    agentSummary({ id: 'agent-3', display_name: 'Max Mustermann', email: 'max@agentdesk.example', department: null, teams: [], active: false, last_sign_in_at: null }),
  ];
}

/** An agent as an administrator opens them. */
export function administeredAgent(summary: AgentSummary = agentSummary()): AdministeredAgent {
  return {
    profile: profile({
      id: summary.id,
      display_name: summary.display_name,
      email: summary.email,
      emails: [{ address: summary.email, primary: true }],
      department: summary.department,
      job_title: summary.job_title,
      is_admin: summary.is_admin,
    }),
    active: summary.active,
    deactivated_at: summary.active ? null : '2026-11-20T12:00:00Z',
    last_sign_in_at: summary.last_sign_in_at,
    teams: summary.teams,
    welcome_pending: false,
  };
}

/** Ada asks to move from Billing to Sales. */
export function departmentRequest(overrides: Partial<PendingDepartmentRequest> = {}): PendingDepartmentRequest {
  return {
    id: 'dept-1',
    agent_id: 'agent-2',
    agent_name: 'Ada Lovelace',
    agent_email: 'ada@agentdesk.example',
    current: 'Billing',
    requested: 'Sales',
    requested_at: '2026-11-23T09:00:00Z',
    ...overrides,
  };
}
