// The UI's test double for `Backend`: a `vi.fn` per command that answers fixture data
// (./fixtures.ts) and records what it was called with.
//
// It decides nothing the server or `crates/core` decides: no validation, permissions,
// privacy, password scoring, search, filtering or sorting, size or format sniffing, rates
// or conflicts, nor what follows from a call beyond what it was given (which sessions a
// new password ends, which email becomes primary, how many alerts are unread, which audio
// device is in use). It keeps fixture state, and what a call was given is echoed into it
// (a saved profile patch is applied and the etag moves on; a new note is listed; an ended
// session is gone). A test that needs a refusal or a particular answer scripts it:
// `backend.checkPassword.mockResolvedValueOnce(passwordCheck(['digit'], 1))`,
// `backend.updateProfile.mockRejectedValueOnce(failure('version_conflict'))`,
// `backend.signOutOtherSessions.mockResolvedValueOnce(sessionsEnded(2))`.
// The rules themselves are tested in Rust and end to end.

import { vi } from 'vitest';
import type { Backend } from '../lib/backend';
import { APP_LANGUAGES } from '../lib/generated/constants';
import type { Alert } from '../lib/generated/Alert';
import type { AlertsState } from '../lib/generated/AlertsState';
import type { Colleague } from '../lib/generated/Colleague';
import type { Customer } from '../lib/generated/Customer';
import type { IpcError } from '../lib/generated/IpcError';
import type { JoinRequest } from '../lib/generated/JoinRequest';
import type { NotificationPrefs } from '../lib/generated/NotificationPrefs';
import type { OutboxState } from '../lib/generated/OutboxState';
import type { Person } from '../lib/generated/Person';
import type { PresenceChange } from '../lib/generated/PresenceChange';
import type { Profile } from '../lib/generated/Profile';
import type { Team } from '../lib/generated/Team';
import type { VersionedNotificationPrefs } from '../lib/generated/VersionedNotificationPrefs';
import type { VersionedNotificationLocks } from '../lib/generated/VersionedNotificationLocks';
import type { UsergroupEntry } from '../lib/generated/UsergroupEntry';
import type { AdministeredField } from '../lib/generated/AdministeredField';
import type { VersionedProfile } from '../lib/generated/VersionedProfile';
import type { UpdateState } from '../lib/generated/UpdateState';
import { Outbox } from '../lib/outbox.svelte';
import type { AudioErrorCode, AudioState, MeterReading } from '../screens/devices/types';
import type { VersionedAgent } from '../lib/generated/VersionedAgent';
import {
  activity,
  administeredAgent,
  administeredTeams,
  agentList,
  agentSummary,
  departmentRequest,
  audioState,
  avatarPolicy,
  customer,
  defaultPrefs,
  directory,
  integrations as integrationsFixture,
  joinRequest,
  note,
  passwordCheck,
  personFile,
  photoData,
  policy,
  privacyPreview,
  profile,
  selfTestOk,
  sessions,
  sessionsEnded,
  signIns,
  teamList,
  ticketsOf,
  user,
} from './fixtures';

export * from './fixtures';

// ---------------------------------------------------------------------------------------
// Failures: what a refusal looks like when a test scripts one.

export function failure(code: IpcError['code'], message: string = code, field: string | null = null): IpcError {
  return { code, message, field };
}

/** A throttled request as the backend answers it. */
export function rateLimited(seconds: number): IpcError {
  return { code: 'rate_limited', message: 'too many attempts', field: null, retry_after_seconds: seconds };
}

/** An audio command's failure; the codes are the audio crate's. */
export function audioFailure(code: AudioErrorCode, message = code.replace(/_/g, ' ')): IpcError {
  return failure(code, message);
}

// ---------------------------------------------------------------------------------------
// The double.

export interface FakeOptions {
  /** What the alerts state starts as. */
  alerts?: Partial<AlertsState>;
  /** The preferences say the agent may configure the admin-only rows. */
  admin?: boolean;
  /** What the outbox starts as: changes waiting, refused, conflicts, a copy shown. */
  outbox?: Partial<OutboxState>;
}

type Listeners<T> = Set<(value: T) => void>;

function listen<T>(listeners: Listeners<T>) {
  return (handler: (value: T) => void) => {
    listeners.add(handler);
    return Promise.resolve(() => void listeners.delete(handler));
  };
}

function emit<T>(listeners: Listeners<T>, value: T) {
  for (const handler of listeners) handler(structuredClone(value));
}

const copy = structuredClone;

export function fakeBackend(start: Profile = profile(), options: FakeOptions = {}) {
  // Fixture state; calls echo what they were given into it.
  let me: VersionedProfile = { profile: start, etag: '"1"' };
  let version = 1;
  let open = sessions();
  let picked = { width: 1200, height: 800 };
  let photos = 0;
  const audio = audioState();
  let micTest = false;
  let alerts: AlertsState = {
    status: { status: start.status, until: start.status_until },
    automatic_away: false,
    unread: options.alerts?.recent?.filter((item) => !item.read).length ?? 0,
    connection: 'connected',
    idle_away_minutes: 10,
    recent: [],
    ...copy(options.alerts ?? {}),
  };
  let prefs: VersionedNotificationPrefs = { prefs: defaultPrefs(options.admin), etag: '"p1"' };
  let prefsVersion = 1;
  const teams = teamList();
  let requests: { mine: JoinRequest[]; to_decide: JoinRequest[] } = { mine: [], to_decide: [joinRequest()] };
  let people = directory();
  let notes = [note()];
  let files = [personFile()];
  let agents = agentList();
  const agentVersions: Record<string, number> = {};
  let departmentRequests = [departmentRequest()];
  const agentPrefs: Record<string, VersionedNotificationPrefs> = {};
  let teamsAdministered = administeredTeams();
  let organizations = [
    { id: 'org-1', name: 'Analytical Engines', people: 1 },
    { id: 'org-acme', name: 'Acme', people: 2 },
    { id: 'org-acme-typo', name: 'Acme Inc', people: 1 },
  ];
  let usergroups: UsergroupEntry[] = [];
  let fieldsAdministered: AdministeredField[] = [
    { field: { id: 'field-plan', name: 'Plan', kind: 'choice', choices: ['Free', 'Team'] }, retired: false, values: 1 },
    { field: { id: 'field-seats', name: 'Seats', kind: 'number', choices: [] }, retired: false, values: 0 },
  ];
  let locks: VersionedNotificationLocks = { locks: { locks: [] }, etag: '"l0"' };
  let integrations = integrationsFixture();
  let secretsMade = 0;
  const tickets = ticketsOf();
  let made = 0;
  let made_orgs = 0;
  let update: UpdateState = { current_version: '0.1.0', enabled: true, checked_at: null, phase: { phase: 'idle' } };
  let outbox: OutboxState = {
    changes: [],
    reachable: true,
    needs_sign_in: false,
    conflicts: [],
    as_of: null,
    ...copy(options.outbox ?? {}),
  };

  const on = {
    profile: new Set() as Listeners<VersionedProfile>,
    update: new Set() as Listeners<UpdateState>,
    sessionEnded: new Set() as Listeners<void>,
    micLevel: new Set() as Listeners<MeterReading>,
    micEnded: new Set() as Listeners<IpcError | null>,
    audio: new Set() as Listeners<AudioState>,
    alerts: new Set() as Listeners<AlertsState>,
    teams: new Set() as Listeners<void>,
    presence: new Set() as Listeners<PresenceChange>,
    outbox: new Set() as Listeners<OutboxState>,
    prefs: new Set() as Listeners<VersionedNotificationPrefs>,
  };

  function administered(id: string): VersionedAgent {
    const summary = agents.find((agent) => agent.id === id) ?? agentSummary({ id });
    return { agent: administeredAgent(summary), etag: `"a${agentVersions[id] ?? 1}"` };
  }

  function changeOutbox(change: (state: OutboxState) => Partial<OutboxState>) {
    outbox = { ...outbox, ...change(copy(outbox)) };
    emit(on.outbox, outbox);
  }

  function saveProfile(changes: Partial<Profile>): VersionedProfile {
    version += 1;
    me = { profile: { ...me.profile, ...changes }, etag: `"${version}"` };
    return copy(me);
  }

  function savePrefs(next: NotificationPrefs): VersionedNotificationPrefs {
    prefsVersion += 1;
    prefs = { prefs: copy(next), etag: `"p${prefsVersion}"` };
    return copy(prefs);
  }

  /** Like the meter's thread: it notices the stop a moment later, then says it ended. */
  function stopMicTest() {
    if (!micTest) return;
    micTest = false;
    setTimeout(() => emit(on.micEnded, null), 5);
  }

  const customerById = (id: string) => {
    const found = people.find((person): person is Person & { kind: 'user' } => person.kind === 'user' && person.id === id);
    if (!found) throw failure('not_found', `no fixture customer ${id}`);
    return found;
  };

  /** Replaces a customer's fixture record with `change`'s, one version on. */
  function changeCustomer(id: string, change: (record: Customer) => Partial<Customer>): Person {
    const before = customerById(id);
    const next = { ...before, ...change(copy(before)), version: before.version + 1 };
    people = people.map((person) => (person.id === id ? next : person));
    return copy(next);
  }

  /** An empty string clears a field (the patch types say so). */
  const cleared = <T extends object>(patch: T) =>
    Object.fromEntries(Object.entries(patch).map(([key, value]) => [key, value === '' ? null : value]));

  const backend = {
    // The session and the profile.
    appInfo: vi.fn<Backend['appInfo']>(async () => ({ version: '0.1.0', server_url: 'http://127.0.0.1:8787/', email: null })),
    restoreSession: vi.fn<Backend['restoreSession']>(async () => copy(me)),
    signIn: vi.fn<Backend['signIn']>(async () => ({ profile: copy(me), remembered: true })),
    /** Refuses while changes wait, unless told what to do with them; discarding them empties
     * the outbox, keeping them leaves it for the next sign-in. */
    signOut: vi.fn<Backend['signOut']>(async (waiting) => {
      const count = outbox.changes.length;
      if (count > 0 && waiting === 'ask') {
        throw failure(
          'changes_waiting',
          `${count} changes have not reached the server yet; signing out deletes them from this computer`,
        );
      }
      if (waiting !== 'keep') outbox = { ...outbox, changes: [], conflicts: [] };
    }),

    // The outbox: what the sender makes of the changes (sent, refused, merged) a test states
    // with `changeOutbox`; a discarded change or a dismissed conflict is gone.
    outboxState: vi.fn<Backend['outboxState']>(async () => copy(outbox)),
    sendWaitingNow: vi.fn<Backend['sendWaitingNow']>(async () => {}),
    discardChange: vi.fn<Backend['discardChange']>(async (seq) =>
      changeOutbox((state) => ({ changes: state.changes.filter((change) => change.seq !== seq) })),
    ),
    /** The replaced value is set again: on the profile, or on a customer's field. */
    restoreReplaced: vi.fn<Backend['restoreReplaced']>(async (id) => {
      const found = outbox.conflicts.find((conflict) => conflict.id === id);
      if (!found) return;
      changeOutbox((state) => ({ conflicts: state.conflicts.filter((conflict) => conflict.id !== id) }));
      if (found.target === 'profile') saveProfile({ [found.field]: found.replaced } as Partial<Profile>);
      const person = /^person:(.+)$/.exec(found.target)?.[1];
      const custom = /^custom_fields\/(.+)$/.exec(found.field)?.[1];
      if (person) {
        changeCustomer(person, (record) =>
          custom
            ? {
                custom_fields: record.custom_fields.map((entry) =>
                  entry.field.id === custom ? { ...entry, value: (found.replaced as string | null) ?? null } : entry,
                ),
              }
            : ({ [found.field]: found.replaced } as Partial<Customer>),
        );
      }
    }),
    dismissConflict: vi.fn<Backend['dismissConflict']>(async (id) =>
      changeOutbox((state) => ({ conflicts: state.conflicts.filter((conflict) => conflict.id !== id) })),
    ),
    onOutboxChanged: vi.fn<Backend['onOutboxChanged']>(listen(on.outbox)),
    getProfile: vi.fn<Backend['getProfile']>(async () => copy(me)),
    updateProfile: vi.fn<Backend['updateProfile']>(async (patch) => saveProfile(cleared(patch) as Partial<Profile>)),
    validateProfile: vi.fn<Backend['validateProfile']>(async () => []),
    listTimezones: vi.fn<Backend['listTimezones']>(async () => [
      { name: 'America/New_York', offset_minutes: -300 },
      { name: 'Europe/Berlin', offset_minutes: 60 },
      { name: 'Europe/London', offset_minutes: 0 },
    ]),
    listLanguages: vi.fn<Backend['listLanguages']>(async () => copy([...APP_LANGUAGES])),
    setUnsavedChanges: vi.fn<Backend['setUnsavedChanges']>(async () => {}),
    quitDiscardingChanges: vi.fn<Backend['quitDiscardingChanges']>(async () => {}),
    onQuitRequested: vi.fn<Backend['onQuitRequested']>(async () => () => {}),
    onProfileChanged: vi.fn<Backend['onProfileChanged']>(listen(on.profile)),
    onSessionEnded: vi.fn<Backend['onSessionEnded']>(listen(on.sessionEnded)),

    // Account security.
    serverPolicy: vi.fn<Backend['serverPolicy']>(async () => ({ password: policy, password_reset_valid_minutes: 30, avatar: avatarPolicy })),
    checkPassword: vi.fn<Backend['checkPassword']>(async () => passwordCheck()),
    /** Which sessions a new password ends is the server's: the list stays as it was. */
    changePassword: vi.fn<Backend['changePassword']>(async () => sessionsEnded()),
    requestPasswordReset: vi.fn<Backend['requestPasswordReset']>(async () => ({
      message: 'If an account exists for this address, a link to reset its password is on its way.',
      valid_minutes: 30,
    })),
    listSessions: vi.fn<Backend['listSessions']>(async () => ({ sessions: copy(open), recent_sign_ins: signIns() })),
    endSession: vi.fn<Backend['endSession']>(async (sessionId) => {
      open = open.filter((session) => session.id !== sessionId);
    }),
    /** Which sessions end is the server's: the list stays as it was. */
    signOutOtherSessions: vi.fn<Backend['signOutOtherSessions']>(async () => sessionsEnded()),

    // The photo: every picked file is a PNG of the size `pickPhotoOf` set.
    prepareAvatar: vi.fn<Backend['prepareAvatar']>(async () => ({
      source_id: `source-${++made}`,
      format: 'image/png',
      ...picked,
      preview: photoData('preview'),
    })),
    saveAvatar: vi.fn<Backend['saveAvatar']>(async () => saveProfile({ avatar_url: `/api/v1/avatars/photo-${++photos}` })),
    discardAvatar: vi.fn<Backend['discardAvatar']>(async () => {}),
    removeAvatar: vi.fn<Backend['removeAvatar']>(async () => saveProfile({ avatar_url: null })),
    avatarImage: vi.fn<Backend['avatarImage']>(async (url) => photoData(url)),
    initialsAvatar: vi.fn<Backend['initialsAvatar']>(async () => ({ text: 'DD', background: '#2f5d8a', foreground: '#ffffff' })),

    // Audio: what a choice makes of the state (the choice kept, the device in use for it) is
    // the audio crate's answer; a test states it with `changeAudio` or scripts it.
    audioState: vi.fn<Backend['audioState']>(async () => copy(audio)),
    chooseAudioDevice: vi.fn<Backend['chooseAudioDevice']>(async () => copy(audio)),
    setAlertVolume: vi.fn<Backend['setAlertVolume']>(async (volume) => {
      audio.choices.alert_volume = volume;
      return copy(audio);
    }),
    startMicTest: vi.fn<Backend['startMicTest']>(async () => {
      stopMicTest();
      micTest = true;
    }),
    stopMicTest: vi.fn<Backend['stopMicTest']>(async () => stopMicTest()),
    onMicLevel: vi.fn<Backend['onMicLevel']>(listen(on.micLevel)),
    onMicTestEnded: vi.fn<Backend['onMicTestEnded']>(listen(on.micEnded)),
    recordSample: vi.fn<Backend['recordSample']>(async () => {}),
    playSample: vi.fn<Backend['playSample']>(async () => {}),
    testOutput: vi.fn<Backend['testOutput']>(async () => {}),
    thisComputer: vi.fn<Backend['thisComputer']>(async () => ({ start_at_login: false })),
    setStartAtLogin: vi.fn<Backend['setStartAtLogin']>(async (on) => ({ start_at_login: on })),
    quitApp: vi.fn<Backend['quitApp']>(async () => {}),
    updateState: vi.fn<Backend['updateState']>(async () => copy(update)),
    checkForUpdates: vi.fn<Backend['checkForUpdates']>(async () => {
      update = { ...update, phase: { phase: 'checking' } };
      return copy(update);
    }),
    restartToUpdate: vi.fn<Backend['restartToUpdate']>(async () => {
      if (update.phase.phase !== 'ready') throw failure('no_update_ready', 'No update is ready to install.');
      update = { ...update, phase: { phase: 'installing', version: update.phase.version } };
      emit(on.update, update);
    }),
    onUpdateChanged: vi.fn<Backend['onUpdateChanged']>(listen(on.update)),
    takeLink: vi.fn<Backend['takeLink']>(async () => null),
    onLinkArrived: vi.fn<Backend['onLinkArrived']>(async () => () => {}),
    onAudioDevicesChanged: vi.fn<Backend['onAudioDevicesChanged']>(listen(on.audio)),

    // Status and alerts.
    alertsState: vi.fn<Backend['alertsState']>(async () => copy(alerts)),
    setStatus: vi.fn<Backend['setStatus']>(async (status, until) => {
      alerts = { ...alerts, status: { status, until }, automatic_away: false };
      me = { ...me, profile: { ...me.profile, status, status_until: until } };
      return copy(alerts);
    }),
    setIdleAway: vi.fn<Backend['setIdleAway']>(async (minutes) => {
      alerts = { ...alerts, idle_away_minutes: minutes };
      return copy(alerts);
    }),
    markAlertsRead: vi.fn<Backend['markAlertsRead']>(async () => {
      alerts = { ...alerts, recent: alerts.recent.map((item) => ({ ...item, read: true })), unread: 0 };
      return copy(alerts);
    }),
    /** What opening an alert makes of the alerts state is core's: a test scripts it. */
    openAlert: vi.fn<Backend['openAlert']>(async () => copy(alerts)),
    onAlertsChanged: vi.fn<Backend['onAlertsChanged']>(listen(on.alerts)),
    notificationPrefs: vi.fn<Backend['notificationPrefs']>(async () => copy(prefs)),
    saveNotificationPrefs: vi.fn<Backend['saveNotificationPrefs']>(async (sent) => savePrefs(sent)),
    onNotificationPrefsChanged: vi.fn<Backend['onNotificationPrefsChanged']>(listen(on.prefs)),
    sendTestNotification: vi.fn<Backend['sendTestNotification']>(async () => selfTestOk()),
    checkQuietHours: vi.fn<Backend['checkQuietHours']>(async () => []),
    privacyPreview: vi.fn<Backend['privacyPreview']>(async () => privacyPreview()),

    // Teams: a request asked for is listed as the agent's; a decided one leaves the list to decide.
    listTeams: vi.fn<Backend['listTeams']>(async () => copy(teams)),
    requestToJoinTeam: vi.fn<Backend['requestToJoinTeam']>(async (teamId, text) => {
      const team = teams.find((candidate) => candidate.id === teamId);
      const request = joinRequest({
        id: `mine-${++made}`,
        team_id: teamId,
        team_name: team?.name ?? teamId,
        requester_id: me.profile.id,
        requester_name: me.profile.display_name,
        requester_email: me.profile.email,
        note: text,
        created_at: '2026-11-24T09:00:00Z',
      });
      requests = { ...requests, mine: [request, ...requests.mine] };
      return copy(request);
    }),
    listJoinRequests: vi.fn<Backend['listJoinRequests']>(async () => copy(requests)),
    decideJoinRequest: vi.fn<Backend['decideJoinRequest']>(async (requestId, approve, text) => {
      const request = requests.to_decide.find((candidate) => candidate.id === requestId) ?? joinRequest({ id: requestId });
      requests = { ...requests, to_decide: requests.to_decide.filter((candidate) => candidate.id !== requestId) };
      return {
        ...copy(request),
        state: approve ? 'approved' : 'denied',
        decided_by: me.profile.display_name,
        decided_at: '2026-11-24T09:00:00Z',
        decision_note: text,
      };
    }),
    onTeamsChanged: vi.fn<Backend['onTeamsChanged']>(listen(on.teams)),

    // The directory: one fixture page, whatever the filter.
    onPresenceChanged: vi.fn<Backend['onPresenceChanged']>(listen(on.presence)),
    listPeople: vi.fn<Backend['listPeople']>(async () => ({ people: copy(people), next_cursor: null })),
    listOrganizations: vi.fn<Backend['listOrganizations']>(async () => ({ organizations: copy(organizations) })),
    getPerson: vi.fn<Backend['getPerson']>(async (id) => {
      const found = people.find((person) => person.id === id);
      if (!found) throw failure('not_found', `no fixture person ${id}`);
      return copy(found);
    }),
    /** The fixture customer under a new id and the given name, listed; what else the server
     * makes of the new record (its emails, which is primary, the organization) a test scripts. */
    createUser: vi.fn<Backend['createUser']>(async (created) => {
      const record = user(customer({ id: `user-new-${++made}`, number: 2000 + made, name: created.name }));
      people = [...people, record];
      return copy(record);
    }),
    updateUser: vi.fn<Backend['updateUser']>(async (id, patch) =>
      changeCustomer(id, (record) => {
        const { organization, custom_fields: values, ...rest } = patch;
        return {
          ...cleared(rest),
          ...(organization === undefined ? {} : { organization: organization ? { id: `org-${organization}`, name: organization } : null }),
          custom_fields: record.custom_fields.map((entry) =>
            values && entry.field.id in values ? { ...entry, value: values[entry.field.id] || null } : entry,
          ),
        };
      }),
    ),
    /** The record as the fixture has it: what the server makes of the emails a test scripts. */
    addEmail: vi.fn<Backend['addEmail']>(async (id) => copy(customerById(id))),
    removeEmail: vi.fn<Backend['removeEmail']>(async (id, address) =>
      changeCustomer(id, (record) => ({ emails: record.emails.filter((email) => email.address !== address) })),
    ),
    /** The record as the fixture has it: what the server makes of the emails a test scripts. */
    makePrimaryEmail: vi.fn<Backend['makePrimaryEmail']>(async (id) => copy(customerById(id))),
    listNotes: vi.fn<Backend['listNotes']>(async (id) => {
      const own = notes.filter((entry) => entry.person_id === id);
      return copy({ notes: own, total: own.length, next_cursor: null });
    }),
    addNote: vi.fn<Backend['addNote']>(async (id, body) => {
      const added = note({
        id: `note-new-${++made}`,
        person_id: id,
        author_id: me.profile.id,
        author_name: me.profile.display_name,
        body,
        created_at: '2026-11-24T09:00:00Z',
        updated_at: '2026-11-24T09:00:00Z',
      });
      notes = [added, ...notes];
      return copy(added);
    }),
    editNote: vi.fn<Backend['editNote']>(async (noteId, body) => {
      notes = notes.map((entry) => (entry.id === noteId ? { ...entry, body, updated_at: '2026-11-24T10:00:00Z' } : entry));
      return copy(notes.find((entry) => entry.id === noteId) ?? note({ id: noteId, body }));
    }),
    deleteNote: vi.fn<Backend['deleteNote']>(async (noteId) => {
      notes = notes.filter((entry) => entry.id !== noteId);
    }),
    listChanges: vi.fn<Backend['listChanges']>(async () => ({ changes: [] })),
    listActivity: vi.fn<Backend['listActivity']>(async (id) => ({ activity: id === 'user-1' ? activity() : [] })),
    /** The source's record is gone; what the merged record holds the test scripts. */
    mergeUsers: vi.fn<Backend['mergeUsers']>(async (id, source) => {
      people = people.filter((person) => person.id !== source);
      return copy(customerById(id));
    }),
    listFiles: vi.fn<Backend['listFiles']>(async (id) => ({
      files: copy(files.filter((file) => file.person_id === id)),
      max_bytes: 10_000_000,
    })),
    /** The file kept, named as given; what type the server makes of it the test scripts. */
    uploadFile: vi.fn<Backend['uploadFile']>(async (id, name, bytes) => {
      const kept = personFile({
        id: `file-new-${++made}`,
        person_id: id,
        name,
        content_type: 'application/octet-stream',
        size: bytes.length,
        uploaded_by: me.profile.id,
        uploaded_by_name: me.profile.display_name,
        uploaded_at: '2026-11-24T10:00:00Z',
      });
      files = [kept, ...files];
      return copy(kept);
    }),
    saveFile: vi.fn<Backend['saveFile']>(async (_fileId, name) => `/home/dana/Downloads/${name}`),
    showSavedFile: vi.fn<Backend['showSavedFile']>(async () => {}),
    deleteFile: vi.fn<Backend['deleteFile']>(async (fileId) => {
      files = files.filter((file) => file.id !== fileId);
    }),
    listTickets: vi.fn<Backend['listTickets']>(async (id, sort) => ({ tickets: copy(tickets[id] ?? []), sort })),
    listLogins: vi.fn<Backend['listLogins']>(async () => ({ sign_ins: signIns() })),
    openTicket: vi.fn<Backend['openTicket']>(async () => {}),
    /** The fixture agents as they are; which match a query the test scripts. */
    listAgents: vi.fn<Backend['listAgents']>(async () => ({
      agents: copy(agents),
      total: agents.length,
      departments: [...new Set(agents.flatMap((agent) => (agent.department ? [agent.department] : [])))].sort(),
      pending_department_requests: departmentRequests.length,
    })),
    getAgent: vi.fn<Backend['getAgent']>(async (agentId) => administered(agentId)),
    /** The agent is listed as given, active and not signed in yet. */
    createAgent: vi.fn<Backend['createAgent']>(async (agent) => {
      const made = agentSummary({
        id: `agent-new-${agents.length + 1}`,
        display_name: agent.display_name,
        email: agent.email,
        department: agent.department ?? null,
        is_admin: agent.is_admin ?? false,
        teams: [],
        last_sign_in_at: null,
      });
      agents = [...agents, made];
      const versioned = administered(made.id);
      versioned.agent.welcome_pending = true;
      return versioned;
    }),
    /** What the patch names is applied and the etag moves on. */
    updateAgent: vi.fn<Backend['updateAgent']>(async (agentId, patch) => {
      agents = agents.map((agent) =>
        agent.id === agentId
          ? {
              ...agent,
              ...(patch.display_name !== undefined && { display_name: patch.display_name }),
              ...(patch.email !== undefined && { email: patch.email }),
              ...(patch.department !== undefined && { department: patch.department || null }),
              ...(patch.job_title !== undefined && { job_title: patch.job_title || null }),
              ...(patch.is_admin !== undefined && { is_admin: patch.is_admin }),
              ...(patch.active !== undefined && { active: patch.active }),
            }
          : agent,
      );
      agentVersions[agentId] = (agentVersions[agentId] ?? 1) + 1;
      return administered(agentId);
    }),
    sendPasswordLink: vi.fn<Backend['sendPasswordLink']>(async () => {}),
    /** Each agent starts with the defaults (the admin-only rows theirs to switch on if they
     * administer); a save moves the etag on. */
    getAgentNotificationPrefs: vi.fn<Backend['getAgentNotificationPrefs']>(async (agentId) => {
      const admin = agents.find((agent) => agent.id === agentId)?.is_admin ?? false;
      agentPrefs[agentId] ??= { prefs: defaultPrefs(admin), etag: '"ap1"' };
      return copy(agentPrefs[agentId]);
    }),
    saveAgentNotificationPrefs: vi.fn<Backend['saveAgentNotificationPrefs']>(async (agentId, sent, etag) => {
      const next = Number(/\d+/.exec(etag)?.[0] ?? '0') + 1;
      agentPrefs[agentId] = { prefs: copy(sent), etag: `"ap${next}"` };
      return copy(agentPrefs[agentId]);
    }),
    listAdministeredTeams: vi.fn<Backend['listAdministeredTeams']>(async () => ({ teams: copy(teamsAdministered) })),
    /** A name another team has is refused as the server refuses it. */
    createTeam: vi.fn<Backend['createTeam']>(async (team) => {
      if (teamsAdministered.some((other) => other.name === team.name)) {
        throw failure('conflict', `a team called ${team.name} already exists`, 'name');
      }
      const id = `team-new-${++made}`;
      teamsAdministered = [...teamsAdministered, { id, name: team.name, members: [], pending_requests: 0 }].sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      return { id, name: team.name, membership: 'none', member_count: 0, leads: [] };
    }),
    renameTeam: vi.fn<Backend['renameTeam']>(async (teamId, name) => {
      if (teamsAdministered.some((other) => other.name === name && other.id !== teamId)) {
        throw failure('conflict', `a team called ${name} already exists`, 'name');
      }
      teamsAdministered = teamsAdministered.map((team) => (team.id === teamId ? { ...team, name } : team));
    }),
    deleteTeam: vi.fn<Backend['deleteTeam']>(async (teamId) => {
      teamsAdministered = teamsAdministered.filter((team) => team.id !== teamId);
    }),
    /** The agent joins with the role, or takes it; leads are listed first. */
    setTeamMember: vi.fn<Backend['setTeamMember']>(async (teamId, agentId, role) => {
      const agent = agents.find((candidate) => candidate.id === agentId) ?? agentSummary({ id: agentId });
      teamsAdministered = teamsAdministered.map((team) => {
        if (team.id !== teamId) return team;
        const others = team.members.filter((member) => member.agent_id !== agentId);
        const joined = { agent_id: agentId, display_name: agent.display_name, email: agent.email, role, active: agent.active };
        const members = [...others, joined].sort((a, b) => a.role.localeCompare(b.role) || a.display_name.localeCompare(b.display_name));
        return { ...team, members };
      });
    }),
    removeTeamMember: vi.fn<Backend['removeTeamMember']>(async (teamId, agentId) => {
      teamsAdministered = teamsAdministered.map((team) =>
        team.id === teamId ? { ...team, members: team.members.filter((member) => member.agent_id !== agentId) } : team,
      );
    }),
    createOrganization: vi.fn<Backend['createOrganization']>(async (name) => {
      if (organizations.some((org) => org.name === name)) {
        throw failure('conflict', `an organization called ${name} already exists`, 'name');
      }
      const made = { id: `org-new-${++made_orgs}`, name, people: 0 };
      organizations = [...organizations, made];
      return copy(made);
    }),
    listAdministeredFields: vi.fn<Backend['listAdministeredFields']>(async () => ({ fields: copy(fieldsAdministered) })),
    createCustomField: vi.fn<Backend['createCustomField']>(async (field) => {
      if (fieldsAdministered.some((entry) => entry.field.name === field.name)) {
        throw failure('conflict', `a field called ${field.name} already exists`, 'name');
      }
      const made = { id: `field-new-${fieldsAdministered.length + 1}`, name: field.name, kind: field.kind, choices: field.choices ?? [] };
      fieldsAdministered = [...fieldsAdministered, { field: made, retired: false, values: 0 }];
      return copy(made);
    }),
    updateCustomField: vi.fn<Backend['updateCustomField']>(async (id, patch) => {
      if (patch.name && fieldsAdministered.some((entry) => entry.field.name === patch.name && entry.field.id !== id)) {
        throw failure('conflict', `a field called ${patch.name} already exists`, 'name');
      }
      fieldsAdministered = fieldsAdministered.map((entry) =>
        entry.field.id === id
          ? { ...entry, field: { ...entry.field, name: patch.name ?? entry.field.name }, retired: patch.retired ?? entry.retired }
          : entry,
      );
      return copy(fieldsAdministered.find((entry) => entry.field.id === id)!);
    }),
    listUsergroups: vi.fn<Backend['listUsergroups']>(async () => ({ usergroups: copy(usergroups) })),
    renameOrganization: vi.fn<Backend['renameOrganization']>(async (id, name) => {
      if (organizations.some((org) => org.name === name && org.id !== id)) {
        throw failure('conflict', `an organization called ${name} already exists`, 'name');
      }
      organizations = organizations.map((org) => (org.id === id ? { ...org, name } : org));
      return copy(organizations.find((org) => org.id === id)!);
    }),
    /** The people move; the one merged away is gone. */
    mergeOrganizations: vi.fn<Backend['mergeOrganizations']>(async (id, into) => {
      const gone = organizations.find((org) => org.id === id)!;
      organizations = organizations
        .filter((org) => org.id !== id)
        .map((org) => (org.id === into ? { ...org, people: org.people + gone.people } : org));
      return copy(organizations.find((org) => org.id === into)!);
    }),
    addUsergroup: vi.fn<Backend['addUsergroup']>(async (name) => {
      if (usergroups.some((group) => group.name === name)) throw failure('conflict', `a usergroup called ${name} is already listed`, 'name');
      const listed = { id: `group-${usergroups.length + 1}`, name, people: 0 };
      usergroups = [...usergroups, listed].sort((a, b) => a.name.localeCompare(b.name));
      return copy(listed);
    }),
    removeUsergroup: vi.fn<Backend['removeUsergroup']>(async (id) => {
      usergroups = usergroups.filter((group) => group.id !== id);
    }),
    getNotificationLocks: vi.fn<Backend['getNotificationLocks']>(async () => copy(locks)),
    saveNotificationLocks: vi.fn<Backend['saveNotificationLocks']>(async (sent, etag) => {
      const next = Number(/\d+/.exec(etag)?.[0] ?? '0') + 1;
      locks = { locks: copy(sent), etag: `"l${next}"` };
      return copy(locks);
    }),
    getIntegrations: vi.fn<Backend['getIntegrations']>(async () => copy(integrations)),
    /** Listed as made by the administrator, with a token of its own. */
    createIntegrationToken: vi.fn<Backend['createIntegrationToken']>(async (token) => {
      const integration = {
        id: `token-new-${integrations.tokens.length + 1}`,
        name: token.name,
        scopes: [...token.scopes],
        created_at: '2026-12-07T10:00:00Z',
        created_by: me.profile.display_name,
        last_used_at: null,
      };
      integrations = { ...integrations, tokens: [...integrations.tokens, integration] };
      return { integration: copy(integration), token: `adi_made-${integrations.tokens.length}` };
    }),
    revokeIntegrationToken: vi.fn<Backend['revokeIntegrationToken']>(async (id) => {
      integrations = { ...integrations, tokens: integrations.tokens.filter((token) => token.id !== id) };
    }),
    /** The source has one secret now, made by the administrator; one made here is answered. */
    setHookSecret: vi.fn<Backend['setHookSecret']>(async (source) => {
      const row = {
        source,
        secrets: 1,
        accepted: 0,
        refused: 0,
        last_accepted_at: null,
        last_refused_at: null,
        last_refusal: null,
        previous_secret_until: null,
        ...integrations.hooks.find((hook) => hook.source === source),
        secret_set_at: '2026-12-07T10:00:00Z',
        secret_set_by: me.profile.display_name,
      };
      integrations = { ...integrations, hooks: [...integrations.hooks.filter((hook) => hook.source !== source), row] };
      return { source, secret: source === 'zendesk' ? null : `made-secret-${++secretsMade}`, previous_until: null };
    }),
    removeHookSecrets: vi.fn<Backend['removeHookSecrets']>(async (source) => {
      integrations = {
        ...integrations,
        hooks: integrations.hooks.map((hook) =>
          hook.source === source ? { ...hook, secrets: 0, secret_set_at: null, secret_set_by: null, previous_secret_until: null } : hook,
        ),
      };
    }),
    listDepartmentRequests: vi.fn<Backend['listDepartmentRequests']>(async () => ({ requests: copy(departmentRequests) })),
    decideDepartmentRequest: vi.fn<Backend['decideDepartmentRequest']>(async (requestId, approve) => {
      const request = departmentRequests.find((candidate) => candidate.id === requestId) ?? departmentRequest({ id: requestId });
      departmentRequests = departmentRequests.filter((candidate) => candidate.id !== requestId);
      return {
        id: request.id,
        agent_id: request.agent_id,
        approved: approve,
        department: approve ? request.requested : request.current,
      };
    }),
  } satisfies Backend;

  return {
    backend,
    current: () => copy(me),
    /** Someone else changes the profile on the server. */
    changeElsewhere: (changes: Partial<Profile>) => void saveProfile(changes),
    /** Someone else changes the profile on the server, and the backend says so. */
    profileChangedElsewhere: (changes: Partial<Profile>) => emit(on.profile, saveProfile(changes)),
    /** The server ends the session, and the shell says so. */
    endSessionOnServer: () => emit(on.sessionEnded, undefined),
    sessionEndedListeners: () => on.sessionEnded.size,
    /** The next photo the agent picks has this size. */
    pickPhotoOf(width: number, height: number) {
      picked = { width, height };
    },

    /** What the audio fixture holds now. */
    audio: () => copy(audio),
    /** Devices are plugged in or out, or a default changes: the test says how the state
     * reads afterwards (the resolved devices too), and the backend reports it. */
    changeAudio(change: (state: AudioState) => void) {
      change(audio);
      emit(on.audio, audio);
    },
    micTestRunning: () => micTest,
    /** A reading of the running microphone test. */
    level(next: MeterReading) {
      if (micTest) emit(on.micLevel, next);
    },
    /** The microphone test ends by itself, with the failure. */
    endMicTest(error: IpcError) {
      micTest = false;
      emit(on.micEnded, error);
    },

    /** The backend reports a change of the alerts state. */
    emitAlerts(changes: Partial<AlertsState>) {
      alerts = { ...alerts, ...copy(changes) };
      emit(on.alerts, alerts);
    },
    /** A new alert arrives, listed first and unread. */
    receiveAlert(next: Alert) {
      alerts = { ...alerts, recent: [copy(next), ...alerts.recent], unread: alerts.unread + (next.read ? 0 : 1) };
      emit(on.alerts, alerts);
    },
    alertsListeners: () => on.alerts.size,
    /** The saved notification preferences. */
    prefs: () => copy(prefs),
    /** An administrator sets the preferences or locks some, and the shell says so. */
    prefsChangedByAdministrator(change: (prefs: NotificationPrefs) => void) {
      const next = copy(prefs.prefs);
      change(next);
      emit(on.prefs, savePrefs(next));
    },
    /** The organizations and listed usergroups as they are now. */
    organizations: () => copy(organizations),
    usergroups: () => copy(usergroups),
    administeredFields: () => copy(fieldsAdministered),
    /** The teams as administrators see them now. */
    administeredTeams: () => copy(teamsAdministered),
    /** What the Integrations tab reads now. */
    integrations: () => copy(integrations),
    /** The locks as last saved. */
    locks: () => copy(locks),
    /** Someone changes the preferences on another device: a new version. */
    changePrefsElsewhere(change: (prefs: NotificationPrefs) => void) {
      const next = copy(prefs.prefs);
      change(next);
      savePrefs(next);
    },

    /** Teams or requests change on the server, and the backend says so. */
    teamsChangedElsewhere(change: (fixture: { teams: Team[]; mine: JoinRequest[]; to_decide: JoinRequest[] }) => void) {
      const fixture = { teams, ...requests };
      change(fixture);
      requests = { mine: fixture.mine, to_decide: fixture.to_decide };
      emit(on.teams, undefined);
    },
    teamsListeners: () => on.teams.size,

    /** A colleague changes something (a status, a privacy setting) on the server. */
    changeColleague(id: string, changes: Partial<Colleague>) {
      people = people.map((person) => (person.kind === 'agent' && person.id === id ? { ...person, ...changes } : person));
    },
    /** The backend reports a colleague's new status. */
    presenceChanged: (change: PresenceChange) => emit(on.presence, change),
    presenceListeners: () => on.presence.size,
    /** The agents as the fixture holds them now. */
    agents: () => copy(agents),
    customers: () => copy(people.filter((person): person is Person & { kind: 'user' } => person.kind === 'user')),
    files: () => copy(files),
    /** The shell's update state changes (found, downloaded, failed), and it says so. */
    updateChanged(changes: Partial<UpdateState>) {
      update = { ...update, ...copy(changes) };
      emit(on.update, update);
    },
    /** Someone else saves the customer's record first. */
    changeCustomerElsewhere: (id: string, changes: Partial<Customer>) => void changeCustomer(id, () => changes),

    /** The outbox changes (a change kept, sent, refused; the server away or back), and the
     * shell says so. */
    changeOutbox: (changes: Partial<OutboxState>) => changeOutbox(() => copy(changes)),
    /** What the outbox holds now. */
    outbox: () => copy(outbox),
    outboxListeners: () => on.outbox.size,
    /** The outbox as the shell keeps it for the screens, following this backend. */
    connectOutbox(): Outbox {
      const store = new Outbox(backend);
      store.connect();
      return store;
    },
  };
}

export type Fake = ReturnType<typeof fakeBackend>;
