// A backend for screen tests: an in-memory server with a few of the real rules.
// The real rules and the real server are exercised by the Rust and end-to-end tests.

import { vi } from 'vitest';
import type { Backend } from '../lib/backend';
import type {
  AudioDevice,
  AudioErrorCode,
  AudioRole,
  AudioState,
  DeviceChoice,
  DeviceList,
  Direction,
  MeterReading,
  Resolved,
} from '../screens/devices/types';
import { ADMIN_ONLY_TYPES, EVENT_TYPES, isClock } from '../screens/notifications/prefs';
import type { Alert } from '../lib/generated/Alert';
import type { AlertsState } from '../lib/generated/AlertsState';
import type { AppInfo } from '../lib/generated/AppInfo';
import type { AvatarCrop } from '../lib/generated/AvatarCrop';
import type { AvatarPolicy } from '../lib/generated/AvatarPolicy';
import type { AvatarSource } from '../lib/generated/AvatarSource';
import type { FieldError } from '../lib/generated/FieldError';
import type { FileList } from '../lib/generated/FileList';
import type { EventPrefs } from '../lib/generated/EventPrefs';
import type { EventType } from '../lib/generated/EventType';
import type { IpcError } from '../lib/generated/IpcError';
import type { JoinRequest } from '../lib/generated/JoinRequest';
import type { JoinRequests } from '../lib/generated/JoinRequests';
import type { NotificationPrefs } from '../lib/generated/NotificationPrefs';
import type { Colleague } from '../lib/generated/Colleague';
import type { Activity } from '../lib/generated/Activity';
import type { Change } from '../lib/generated/Change';
import type { Customer } from '../lib/generated/Customer';
import type { CustomerPatch } from '../lib/generated/CustomerPatch';
import type { NewCustomer } from '../lib/generated/NewCustomer';
import type { Note } from '../lib/generated/Note';
import type { NotesPage } from '../lib/generated/NotesPage';
import type { PasswordCheck } from '../lib/generated/PasswordCheck';
import type { PeopleFilter } from '../lib/generated/PeopleFilter';
import type { OrganizationEntry } from '../lib/generated/OrganizationEntry';
import type { Organizations } from '../lib/generated/Organizations';
import type { PresenceChange } from '../lib/generated/PresenceChange';
import type { PeoplePage } from '../lib/generated/PeoplePage';
import type { Person } from '../lib/generated/Person';
import type { PersonFile } from '../lib/generated/PersonFile';
import type { PasswordPolicy } from '../lib/generated/PasswordPolicy';
import type { PasswordRule } from '../lib/generated/PasswordRule';
import type { Profile } from '../lib/generated/Profile';
import type { ProfilePatch } from '../lib/generated/ProfilePatch';
import type { SelfTestReport } from '../lib/generated/SelfTestReport';
import type { SessionInfo } from '../lib/generated/SessionInfo';
import type { SignInAttempt } from '../lib/generated/SignInAttempt';
import type { Status } from '../lib/generated/Status';
import type { Team } from '../lib/generated/Team';
import type { TicketActivity } from '../lib/generated/TicketActivity';
import type { TicketSort } from '../lib/generated/TicketSort';
import type { TicketSummary } from '../lib/generated/TicketSummary';
import type { VersionedNotificationPrefs } from '../lib/generated/VersionedNotificationPrefs';
import type { VersionedProfile } from '../lib/generated/VersionedProfile';

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
    contact_prefs: {
      allow_direct_messages: true,
      show_phone: true,
      show_online_status: true,
      calendar_integration: false,
    },
    status: 'available',
    status_until: null,
    is_admin: false,
    updated_at: '2026-11-23T10:00:00Z',
    ...overrides,
  };
}

/** The languages the app is translated into (the Rust `APP_LANGUAGES`): an agent's choices. */
export const APP_LANGUAGES = [
  { tag: 'en', name: 'English' },
  { tag: 'de', name: 'Deutsch' },
];

export function validate(patch: ProfilePatch): FieldError[] {
  const errors: FieldError[] = [];
  if (patch.language !== undefined && !APP_LANGUAGES.some((option) => option.tag === patch.language?.trim())) {
    errors.push({
      field: 'language',
      code: 'unsupported_language',
      message: 'is not a language the app is translated into',
    });
  }
  if (patch.display_name !== undefined && !patch.display_name.trim()) {
    errors.push({ field: 'display_name', code: 'required', message: 'is required' });
  }
  if (patch.phone && !patch.phone.trim().startsWith('+')) {
    errors.push({ field: 'phone', code: 'phone_needs_country_code', message: 'needs a country code' });
  }
  return errors;
}

export const PASSWORD = 'Old-password-1';

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

/** The first bytes of each accepted format, as the Rust side recognises them. */
const SIGNATURES: [string, number[]][] = [
  ['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/gif', [0x47, 0x49, 0x46, 0x38]],
];

function formatOf(bytes: Uint8Array): string | null {
  const found = SIGNATURES.find(([, signature]) => signature.every((byte, i) => bytes[i] === byte));
  if (found) return found[0];
  const ascii = String.fromCharCode(...bytes.slice(0, 12));
  return ascii.startsWith('RIFF') && ascii.endsWith('WEBP') ? 'image/webp' : null;
}

/** A file as the agent picks it: `format` decides its first bytes, `type` what the OS says it is. */
export function imageFile(name: string, format: 'image/png' | 'image/jpeg' | 'text/plain' = 'image/png', type = format) {
  const head = SIGNATURES.find(([mime]) => mime === format)?.[1] ?? [...new TextEncoder().encode('hello')];
  return new File([new Uint8Array([...head, 0, 1, 2, 3])], name, { type });
}

/** What the fake answers for a stored photo. */
export function photoData(url: string): string {
  return `data:image/png;base64,${btoa(url)}`;
}

/** A 1×1 PNG, the fake's preview of every photo. */
const PREVIEW =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const COMMON = ['password', 'passwort', 'qwerty', 'letmein', '123456', 'welcome'];

/** A rough stand-in for zxcvbn: length and variety, and 1 at most for common or personal words. */
export function score(candidate: string, personal: string[] = []): number {
  if (!candidate) return 0;
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(candidate)).length;
  let result = 0;
  if (candidate.length >= 8) result += 1;
  if (candidate.length >= 12) result += 1;
  if (classes >= 3) result += 1;
  if (candidate.length >= 16 && classes >= 3) result += 1;
  const words = personal.flatMap((word) => word.split(/[@. _+-]/)).filter((word) => word.length >= 3);
  const lower = candidate.toLowerCase();
  if ([...COMMON, ...words.map((word) => word.toLowerCase())].some((word) => lower.includes(word))) {
    result = Math.min(result, 1);
  }
  return Math.min(result, 4);
}

/** The policy's rules as the Rust check applies them. */
export function checkPassword(candidate: string, current: string | null, personal: string[] = []): PasswordCheck {
  const length = [...candidate].length;
  const strength = length > policy.max_length ? 0 : score(candidate, personal);
  const passed: Record<PasswordRule, boolean> = {
    min_length: length >= policy.min_length,
    max_length: length <= policy.max_length,
    uppercase: /\p{Lu}/u.test(candidate),
    lowercase: /\p{Ll}/u.test(candidate),
    digit: /[0-9]/.test(candidate),
    symbol: /[^\p{L}\p{N}\s]/u.test(candidate),
    not_current: current === null || current !== candidate,
    not_guessable: candidate !== '' && strength >= policy.min_score,
  };
  return { rules: policy.rules.map((rule) => ({ rule, passed: passed[rule] })), score: strength };
}

export function sessions(): SessionInfo[] {
  return [
    {
      id: 'session-this',
      created_at: '2026-11-20T08:00:00Z',
      last_seen_at: '2026-11-23T10:00:00Z',
      client_name: 'Agent Desk',
      client_version: '0.1.0',
      ip_address: '127.0.0.1',
      current: true,
    },
    {
      id: 'session-laptop',
      created_at: '2026-11-18T07:30:00Z',
      last_seen_at: '2026-11-22T16:45:00Z',
      client_name: 'Agent Desk',
      client_version: '0.0.9',
      ip_address: '198.51.100.23',
      current: false,
    },
    {
      id: 'session-script',
      created_at: '2026-11-01T12:00:00Z',
      last_seen_at: '2026-11-02T12:00:00Z',
      client_name: null,
      client_version: null,
      ip_address: null,
      current: false,
    },
  ];
}

export function signIns(): SignInAttempt[] {
  return [
    { at: '2026-11-23T09:59:00Z', succeeded: true, client_name: 'Agent Desk', ip_address: '127.0.0.1' },
    { at: '2026-11-23T03:12:00Z', succeeded: false, client_name: null, ip_address: '203.0.113.66' },
  ];
}

function failure(code: IpcError['code'], message: string, field: string | null = null): IpcError {
  return { code, message, field };
}

/** The client's rule: plain http:// only to this computer. */
function insecure(serverUrl: string) {
  const url = /^http:\/\/(\[[^\]]*\]|[^/:?#]*)/i.exec(serverUrl.trim());
  if (url && !['localhost', '127.0.0.1', '[::1]'].includes(url[1]!.toLowerCase())) {
    throw failure('insecure_server_url', 'http:// is only for a server on this computer; use https://', 'server_url');
  }
}

/** A throttled request as the backend answers it. */
export function rateLimited(seconds: number): IpcError {
  return { code: 'rate_limited', message: 'too many attempts', field: null, retry_after_seconds: seconds };
}

/** An audio command's failure; the codes are the audio crate's. */
export function audioFailure(code: AudioErrorCode, message = code.replace(/_/g, ' ')): IpcError {
  return { code, message, field: null };
}

export function audioDevice(id: string, name: string, direction: Direction, isDefault = false): AudioDevice {
  return {
    id,
    name,
    direction,
    is_default: isDefault,
    formats: [{ channels: direction === 'input' ? 1 : 2, min_rate: 8000, max_rate: 48000, sample_format: 'f32' }],
  };
}

/** The devices of a laptop with a headset plugged in, defaults first. */
export function devices(): DeviceList {
  return {
    host: 'PulseAudio',
    inputs: [
      audioDevice('pulse:builtin-mic', 'Built-in Microphone', 'input', true),
      audioDevice('pulse:jabra-in', 'Jabra Evolve2 65', 'input'),
    ],
    outputs: [
      audioDevice('pulse:builtin-speakers', 'Built-in Speakers', 'output', true),
      audioDevice('pulse:jabra-out', 'Jabra Evolve2 65', 'output'),
      audioDevice('pulse:hdmi', 'HDMI Display', 'output'),
    ],
  };
}

/** A meter reading with nothing to hint at unless overridden. */
export function reading(overrides: Partial<MeterReading> = {}): MeterReading {
  return { peak_dbfs: -12, rms_dbfs: -24, no_signal: false, too_quiet: false, clipping: false, ...overrides };
}

/** The device a choice stands for, as the Rust side resolves it. */
export function resolve(choice: DeviceChoice, present: AudioDevice[]): Resolved {
  const standIn = present.find((device) => device.is_default) ?? present[0] ?? null;
  if (choice.kind === 'system_default') return { device: standIn, fallback: false };
  const chosen = present.find((device) => device.id === choice.id) ?? present.find((device) => device.name === choice.name);
  return chosen ? { device: chosen, fallback: false } : { device: standIn, fallback: true };
}

const DIRECTION_OF: Record<AudioRole, Direction> = { microphone: 'input', speaker: 'output', alerts: 'output' };

function fakeAudio() {
  let list = devices();
  const choices: AudioState['choices'] = {
    microphone: { kind: 'system_default' },
    speaker: { kind: 'system_default' },
    alerts: { kind: 'system_default' },
    alert_volume: 0.8,
  };
  let micTest = false;
  let recorded = false;
  const levelHandlers = new Set<(reading: MeterReading) => void>();
  const endedHandlers = new Set<(error: IpcError | null) => void>();
  const changeHandlers = new Set<(state: AudioState) => void>();

  const present = (direction: Direction) => (direction === 'input' ? list.inputs : list.outputs);

  function state(): AudioState {
    const copy = structuredClone({ devices: list, choices });
    return {
      ...copy,
      microphone: resolve(copy.choices.microphone, copy.devices.inputs),
      speaker: resolve(copy.choices.speaker, copy.devices.outputs),
      alerts: resolve(copy.choices.alerts, copy.devices.outputs),
    };
  }

  function subscribe<T>(handlers: Set<T>, handler: T): Promise<() => void> {
    handlers.add(handler);
    return Promise.resolve(() => void handlers.delete(handler));
  }

  function ended(error: IpcError | null) {
    for (const handler of endedHandlers) handler(error);
  }

  /** Like the meter's thread: it notices the stop a moment later, then says it ended. */
  function stopTest() {
    if (!micTest) return;
    micTest = false;
    setTimeout(() => ended(null), 5);
  }

  function changed() {
    const now = state();
    for (const handler of changeHandlers) handler(now);
  }

  const backend = {
    audioState: vi.fn(async (): Promise<AudioState> => state()),
    chooseAudioDevice: vi.fn(async (role: AudioRole, choice: DeviceChoice): Promise<AudioState> => {
      if (choice.kind === 'device' && !present(DIRECTION_OF[role]).some((device) => device.id === choice.id)) {
        throw audioFailure('audio_unknown_device', `no device ${choice.id}`);
      }
      choices[role] = structuredClone(choice);
      return state();
    }),
    setAlertVolume: vi.fn(async (volume: number): Promise<AudioState> => {
      if (!(volume >= 0 && volume <= 1)) throw audioFailure('audio_invalid', 'the volume must be between 0 and 1');
      choices.alert_volume = volume;
      return state();
    }),
    startMicTest: vi.fn(async () => {
      stopTest();
      if (!state().microphone.device) throw audioFailure('audio_no_device', 'no microphone');
      micTest = true;
    }),
    stopMicTest: vi.fn(async () => stopTest()),
    onMicLevel: vi.fn((handler: (reading: MeterReading) => void) => subscribe(levelHandlers, handler)),
    onMicTestEnded: vi.fn((handler: (error: IpcError | null) => void) => subscribe(endedHandlers, handler)),
    recordSample: vi.fn(async (seconds: number) => {
      if (!(seconds >= 1 && seconds <= 30)) throw audioFailure('audio_invalid', 'seconds must be 1 to 30');
      if (!state().microphone.device) throw audioFailure('audio_no_device', 'no microphone');
      recorded = true;
    }),
    playSample: vi.fn(async () => {
      if (!recorded) throw audioFailure('audio_no_data', 'nothing recorded');
    }),
    testOutput: vi.fn(async (role: 'speaker' | 'alerts') => {
      if (!state()[role].device) throw audioFailure('audio_no_device', 'no output');
    }),
    onAudioDevicesChanged: vi.fn((handler: (state: AudioState) => void) => subscribe(changeHandlers, handler)),
  } satisfies Partial<Backend>;

  return {
    backend,
    controls: {
      /** What the backend holds now. */
      audio: state,
      micTestRunning: () => micTest,
      /** Unplugs a device, as the system reports it. */
      unplug(id: string) {
        list = {
          ...list,
          inputs: list.inputs.filter((device) => device.id !== id),
          outputs: list.outputs.filter((device) => device.id !== id),
        };
        changed();
      },
      /** Plugs a device in (again). */
      plug(device: AudioDevice) {
        const key = device.direction === 'input' ? 'inputs' : 'outputs';
        list = { ...list, [key]: [...list[key], device] };
        changed();
      },
      /** A reading of the running microphone test. */
      level(next: MeterReading) {
        if (!micTest) return;
        for (const handler of levelHandlers) handler(next);
      },
      /** The microphone test ends by itself, with the failure when there is one. */
      endMicTest(error: IpcError) {
        micTest = false;
        ended(error);
      },
    },
  };
}


/** The fields of a row the Rust `EventPrefs` reads; anything else is refused. */
const ROW_FIELDS: readonly string[] = ['type', 'desktop', 'sound', 'email', 'admin_only'];

/** A row as the server sends it for a new agent (the Rust `EventPrefs::default_for`). */
export function defaultRow(type: EventType): EventPrefs {
  const admin_only = ADMIN_ONLY_TYPES.includes(type);
  const on = (desktop: boolean, sound: boolean, email: EventPrefs['email']) => ({
    type,
    desktop,
    sound,
    email,
    admin_only,
  });
  switch (type) {
    case 'ticket.assigned':
    case 'ticket.sla_warning':
    case 'ticket.customer_reply':
      return on(true, true, 'immediate');
    case 'ticket.updated':
    case 'ticket.team_assigned':
      return on(true, false, 'digest');
    case 'system.maintenance':
    case 'team.join_requested':
    case 'team.request_decided':
    case 'department.request_decided':
      return on(true, false, 'immediate');
    case 'kb.article_published':
    case 'report.weekly_summary':
      return on(false, false, 'weekly');
    default:
      return on(false, false, 'off');
  }
}

/** The preferences a server answers for a new agent: a row per configurable type, in order. */
export function defaultPrefs(admin = false): NotificationPrefs {
  return {
    events: EVENT_TYPES.filter((type) => type !== 'profile.updated').map(defaultRow),
    quiet_hours: { enabled: false, start: '22:00', end: '07:00' },
    can_configure_admin_only: admin,
  };
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

export interface AlertsOptions {
  /** What the alerts state starts as. */
  alerts?: Partial<AlertsState>;
  /** The agent may switch on admin-only types. */
  admin?: boolean;
}

function fakeAlerts(
  options: AlertsOptions,
  who: () => Profile,
  setStatusOnProfile: (status: Status, until: string | null) => void,
) {
  let state: AlertsState = {
    status: { status: who().status, until: who().status_until },
    automatic_away: false,
    unread: 0,
    connection: 'connected',
    idle_away_minutes: 10,
    recent: [],
    ...structuredClone(options.alerts ?? {}),
  };
  if (options.alerts?.recent && options.alerts.unread === undefined) {
    state.unread = state.recent.filter((item) => !item.read).length;
  }
  let prefs: VersionedNotificationPrefs = { prefs: defaultPrefs(options.admin), etag: '"p1"' };
  let prefsVersion = 1;
  let report = selfTestOk();
  const handlers = new Set<(state: AlertsState) => void>();

  const snapshot = (): AlertsState => structuredClone(state);
  const unreadCount = () => state.recent.filter((item) => !item.read).length;

  function emit() {
    const now = snapshot();
    for (const handler of handlers) handler(now);
  }

  function storePrefs(next: NotificationPrefs): VersionedNotificationPrefs {
    prefsVersion += 1;
    prefs = { prefs: structuredClone(next), etag: `"p${prefsVersion}"` };
    return structuredClone(prefs);
  }

  const backend = {
    alertsState: vi.fn(async (): Promise<AlertsState> => snapshot()),
    setStatus: vi.fn(async (status: Status, until: string | null): Promise<AlertsState> => {
      if (until !== null && Number.isNaN(Date.parse(until))) {
        throw failure('validation_failed', 'until must be RFC 3339', 'until');
      }
      state.status = { status, until };
      state.automatic_away = false;
      setStatusOnProfile(status, until);
      return snapshot();
    }),
    setIdleAway: vi.fn(async (minutes: number | null): Promise<AlertsState> => {
      if (minutes !== null && !(Number.isInteger(minutes) && minutes >= 1 && minutes <= 240)) {
        throw failure('settings', 'minutes must be 1 to 240', 'minutes');
      }
      state.idle_away_minutes = minutes;
      return snapshot();
    }),
    markAlertsRead: vi.fn(async (): Promise<AlertsState> => {
      state.recent = state.recent.map((item) => ({ ...item, read: true }));
      state.unread = 0;
      return snapshot();
    }),
    openAlert: vi.fn(async (seq: number): Promise<AlertsState> => {
      const found = state.recent.find((item) => item.seq === seq);
      if (!found) throw failure('not_found', `no alert ${seq}`);
      found.read = true;
      state.unread = unreadCount();
      return snapshot();
    }),
    onAlertsChanged: vi.fn((handler: (state: AlertsState) => void): Promise<() => void> => {
      handlers.add(handler);
      return Promise.resolve(() => void handlers.delete(handler));
    }),
    notificationPrefs: vi.fn(async (): Promise<VersionedNotificationPrefs> => structuredClone(prefs)),
    saveNotificationPrefs: vi.fn(async (sent: NotificationPrefs, etag: string): Promise<VersionedNotificationPrefs> => {
      if (etag !== prefs.etag) throw failure('version_conflict', 'stale');
      // Like the Rust type (`deny_unknown_fields`): a row with a field it lacks is refused.
      for (const [index, row] of sent.events.entries()) {
        const unknown = Object.keys(row).find((key) => !ROW_FIELDS.includes(key));
        if (unknown) throw failure('validation_failed', `unknown field \`${unknown}\``, `events[${index}].${unknown}`);
      }
      for (const field of ['start', 'end'] as const) {
        if (!isClock(sent.quiet_hours[field])) {
          const name = `quiet_hours.${field}`;
          throw failure('validation_failed', `${name} must be a time as HH:MM (00:00 to 23:59)`, name);
        }
      }
      const admin = prefs.prefs.can_configure_admin_only;
      const events = EVENT_TYPES.filter((type) => type !== 'profile.updated').map((type) => {
        const row = sent.events.find((candidate) => candidate.type === type) ?? defaultRow(type);
        return { ...row, admin_only: ADMIN_ONLY_TYPES.includes(type) };
      });
      const switchedOn = events.find(
        (row) => row.admin_only && (row.desktop || row.sound || row.email !== 'off'),
      );
      if (switchedOn && !admin) {
        throw failure('forbidden', `only an administrator may switch on ${switchedOn.type}`, switchedOn.type);
      }
      return storePrefs({ events, quiet_hours: { ...sent.quiet_hours }, can_configure_admin_only: admin });
    }),
    sendTestNotification: vi.fn(async (): Promise<SelfTestReport> => structuredClone(report)),
  } satisfies Partial<Backend>;

  return {
    backend,
    controls: {
      /** What the alerts state is now. */
      alerts: snapshot,
      /** The backend reports a change of the alerts state. */
      emitAlerts(changes: Partial<AlertsState>) {
        state = { ...state, ...structuredClone(changes) };
        emit();
      },
      /** A new event arrives and is listed first. */
      receiveAlert(next: Alert) {
        state.recent = [structuredClone(next), ...state.recent];
        state.unread = unreadCount();
        emit();
      },
      /** How many listen to `alerts-changed`. */
      alertsListeners: () => handlers.size,
      /** The saved notification preferences. */
      prefs: () => structuredClone(prefs),
      /** Someone changes the preferences on another device. */
      changePrefsElsewhere(change: (prefs: NotificationPrefs) => void) {
        const next = structuredClone(prefs.prefs);
        change(next);
        storePrefs(next);
      },
      /** What the next self-test reports. */
      selfTestAnswers(next: SelfTestReport) {
        report = structuredClone(next);
      },
    },
  };
}

export function teamList(): Team[] {
  return [
    { id: 'team-billing', name: 'Billing', membership: 'lead', member_count: 4, leads: ['Dana Demo'] },
    { id: 'team-escalations', name: 'Escalations', membership: 'none', member_count: 3, leads: ['Sam Senior'] },
    { id: 'team-onboarding', name: 'Onboarding', membership: 'member', member_count: 6, leads: ['Lee Lead'] },
  ];
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

/** The directory as the signed-in agent sees it: Robin keeps to the department. */
export function colleagues(): Colleague[] {
  return [
    colleague(),
    { id: 'agent-3', display_name: 'Robin Rookie', avatar_url: null },
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
  ];
}

export function customer(overrides: Partial<Customer> = {}): Customer {
  return {
    id: 'user-1',
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

/** The largest file the fake server keeps, and how many a record may hold. */
export const FILE_MAX_BYTES = 10_000_000;
export const FILES_MAX = 200;

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

/** Ticket histories: Ada's as the requester, Sam's as the agent the events reached. */
export function ticketHistories(): (TicketSummary & { person_id: string })[] {
  const url = (id: string) => `https://desk.example/tickets/${id}`;
  return [
    {
      person_id: 'user-1',
      ticket_id: '1000',
      title: 'Invoice 1842 charged twice',
      last_event: 'ticket.customer_reply',
      url: url('1000'),
      opened_at: '2026-11-20T08:00:00Z',
      updated_at: '2026-11-23T09:30:00Z',
      events: 4,
    },
    {
      person_id: 'user-1',
      ticket_id: '42',
      title: 'Cannot sign in',
      last_event: 'ticket.updated',
      url: null,
      opened_at: '2026-10-01T10:00:00Z',
      updated_at: '2026-10-02T11:00:00Z',
      events: 2,
    },
    {
      person_id: 'user-1',
      ticket_id: '999',
      title: 'Export to CSV',
      last_event: 'ticket.created',
      url: url('999'),
      opened_at: '2026-11-21T12:00:00Z',
      updated_at: '2026-11-21T12:00:00Z',
      events: 1,
    },
    {
      person_id: 'agent-2',
      ticket_id: '1001',
      title: 'Refund for order 77',
      last_event: 'ticket.assigned',
      url: url('1001'),
      opened_at: '2026-11-22T08:00:00Z',
      updated_at: '2026-11-22T08:05:00Z',
      events: 1,
    },
  ];
}

/** Tickets in the server's order: ids by number, times as they sort; `-` reverses. */
function sortTickets(tickets: TicketSummary[], sort: TicketSort): TicketSummary[] {
  const key = sort.replace(/^-/, '');
  const compare = (a: TicketSummary, b: TicketSummary) =>
    key === 'ticket'
      ? a.ticket_id.localeCompare(b.ticket_id, 'en', { numeric: true })
      : key === 'opened'
        ? a.opened_at.localeCompare(b.opened_at)
        : a.updated_at.localeCompare(b.updated_at);
  const sorted = [...tickets].sort(compare);
  return sort.startsWith('-') ? sorted.reverse() : sorted;
}

function fakePeople(me: () => Profile, admin: boolean) {
  let people = colleagues();
  const presenceHandlers = new Set<(change: PresenceChange) => void>();
  let customers = [
    customer(),
    customer({
      id: 'user-2',
      name: 'Byron, Ada',
      emails: [{ address: 'ada@home.example', primary: true }],
      organization: null,
      summary: null,
      usergroups: [],
      custom_fields: [],
    }),
  ];
  let notes: Note[] = [
    {
      id: 'note-1',
      person_id: 'user-1',
      author_id: 'agent-2',
      author_name: 'Sam Senior',
      body: 'Called about invoice 1842.',
      created_at: '2026-11-22T09:00:00Z',
      updated_at: '2026-11-22T09:00:00Z',
    },
  ];
  let made = 0;
  let files: PersonFile[] = [personFile()];
  const tickets = ticketHistories();
  let changes: (Change & { person_id: string })[] = [];
  /** The log without whose record each entry is, as the server answers it. */
  const changesOf = (id: string): Change[] =>
    changes.filter((change) => change.person_id === id).map((change) => {
      const copy: Partial<typeof change> = { ...change };
      delete copy.person_id;
      return copy as Change;
    });
  const log = (person_id: string, field: string, old_value: string | null, new_value: string | null) => {
    changes = [
      {
        person_id,
        changed_at: `2026-11-24T09:${String(changes.length).padStart(2, '0')}:00Z`,
        actor_id: me().id,
        actor_name: me().display_name,
        field,
        old_value,
        new_value,
      },
      ...changes,
    ];
  };
  const nameOf = (person: Person) => (person.kind === 'agent' ? person.display_name : person.name);
  const everyone = (): Person[] => [
    ...people.map((person) => ({ kind: 'agent' as const, ...person })),
    ...customers.map((person) => ({ kind: 'user' as const, ...person })),
  ];
  const matches = (person: Person, word: string) =>
    nameOf(person).toLowerCase().includes(word) ||
    (person.emails ?? []).some((email) => email.address.toLowerCase().includes(word));
  const teamOf: Record<string, string> = { 'team-billing': 'Billing', 'team-escalations': 'Escalations' };
  const findCustomer = (id: string) => {
    const found = customers.find((candidate) => candidate.id === id);
    if (!found) throw failure('not_found', 'not found');
    return found;
  };
  /** The server's rule for what only an agent themselves or an administrator sees. */
  const historyOf = (id: string): 'agent' | 'user' => {
    const person = everyone().find((candidate) => candidate.id === id);
    if (!person) throw failure('not_found', 'not found');
    if (person.kind === 'agent' && id !== me().id && !admin) {
      throw failure('forbidden', "only the agent and administrators see an agent's history");
    }
    return person.kind;
  };
  /** The ticket events of a person's tickets, as the activity stream carries them. */
  const ticketActivity = (id: string): TicketActivity[] =>
    tickets
      .filter((ticket) => ticket.person_id === id)
      .map((ticket) => ({
        ticket_id: ticket.ticket_id,
        event_type: ticket.last_event,
        title: ticket.title,
        url: ticket.url,
        at: ticket.updated_at,
      }));
  const changed = (id: string, change: (record: Customer) => Customer): Person => {
    const next = change(structuredClone(findCustomer(id)));
    next.version += 1;
    customers = customers.map((record) => (record.id === id ? next : record));
    return structuredClone({ kind: 'user' as const, ...next });
  };

  const backend = {
    listPeople: vi.fn(async (filter: PeopleFilter): Promise<PeoplePage> => {
      const words = (filter.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
      const team = filter.team ? teamOf[filter.team] : undefined;
      const found = everyone()
        .filter((person) => !filter.kind || person.kind === filter.kind)
        .filter((person) => words.every((word) => matches(person, word)))
        .filter((person) => !team || (person.kind === 'agent' && (person.teams ?? []).includes(team)))
        .filter((person) => !filter.org || (person.kind === 'user' && person.organization?.id === filter.org))
        .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
      const start = filter.cursor ? Number(filter.cursor) : 0;
      const limit = filter.limit ?? 50;
      const next = start + limit < found.length ? String(start + limit) : null;
      return structuredClone({ people: found.slice(start, start + limit), next_cursor: next });
    }),
    listOrganizations: vi.fn(async (): Promise<Organizations> => {
      const counts = new Map<string, OrganizationEntry>();
      for (const record of customers) {
        if (!record.organization) continue;
        const { id, name } = record.organization;
        const entry = counts.get(id) ?? { id, name, people: 0 };
        entry.people += 1;
        counts.set(id, entry);
      }
      return { organizations: [...counts.values()].sort((a, b) => a.name.localeCompare(b.name)) };
    }),
    getPerson: vi.fn(async (id: string): Promise<Person> => {
      const person = everyone().find((candidate) => candidate.id === id);
      if (!person) throw failure('not_found', 'not found');
      return structuredClone(person);
    }),
    createUser: vi.fn(async (created: NewCustomer): Promise<Person> => {
      made += 1;
      const record = customer({
        id: `user-new-${made}`,
        name: created.name,
        emails: created.emails.map((address, index) => ({ address, primary: index === 0 })),
        organization: null,
        summary: null,
      });
      customers = [...customers, record];
      return structuredClone({ kind: 'user' as const, ...record });
    }),
    updateUser: vi.fn(async (id: string, patch: CustomerPatch, version: number): Promise<Person> => {
      if (findCustomer(id).version !== version) throw failure('version_conflict', 'stale');
      if (patch.website !== undefined && patch.website && !/^https?:\/\/[^/]+\./.test(patch.website)) {
        throw failure('validation_failed', 'website must be an http or https address with a domain', 'website');
      }
      const before = findCustomer(id) as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(patch)) {
        if (field === 'custom_fields') continue;
        const old = field === 'organization' ? (findCustomer(id).organization?.name ?? null) : before[field];
        log(id, field, old === null || old === undefined ? null : String(old), value === '' ? null : String(value));
      }
      for (const [fieldId, value] of Object.entries(patch.custom_fields ?? {})) {
        const entry = findCustomer(id).custom_fields.find((candidate) => candidate.field.id === fieldId);
        if (!entry) throw failure('validation_failed', 'is not a field', `custom_fields.${fieldId}`);
        if (entry.field.kind === 'number' && value && Number.isNaN(Number(value))) {
          throw failure('validation_failed', `${entry.field.name} must be a number`, `custom_fields.${fieldId}`);
        }
      }
      for (const [fieldId, value] of Object.entries(patch.custom_fields ?? {})) {
        const entry = findCustomer(id).custom_fields.find((candidate) => candidate.field.id === fieldId)!;
        log(id, `custom:${entry.field.name}`, entry.value, value || null);
      }
      return changed(id, (record) => {
        const { organization, custom_fields: custom, ...rest } = patch;
        const next = { ...record, ...rest } as Customer;
        for (const [key, value] of Object.entries(rest)) {
          if (value === '') (next as Record<string, unknown>)[key] = null;
        }
        if (organization !== undefined) {
          next.organization = organization ? { id: `org-${organization}`, name: organization } : null;
        }
        next.custom_fields = record.custom_fields.map((entry) =>
          custom && entry.field.id in custom ? { ...entry, value: custom[entry.field.id] || null } : entry,
        );
        return next;
      });
    }),
    addEmail: vi.fn(async (id: string, address: string, primary: boolean): Promise<Person> => {
      if (everyone().some((person) => (person.emails ?? []).some((email) => email.address === address))) {
        throw failure('conflict', `${address} already belongs to someone`, 'address');
      }
      return changed(id, (record) => ({
        ...record,
        emails: [
          ...record.emails.map((email) => ({ ...email, primary: primary ? false : email.primary })),
          { address, primary },
        ],
      }));
    }),
    removeEmail: vi.fn(async (id: string, address: string): Promise<Person> => {
      const record = findCustomer(id);
      const email = record.emails.find((candidate) => candidate.address === address);
      if (!email) throw failure('not_found', 'not found');
      if (email.primary) throw failure('conflict', 'the primary email cannot be removed', 'address');
      return changed(id, (next) => ({ ...next, emails: next.emails.filter((other) => other.address !== address) }));
    }),
    makePrimaryEmail: vi.fn(async (id: string, address: string): Promise<Person> =>
      changed(id, (record) => ({
        ...record,
        emails: [...record.emails]
          .map((email) => ({ ...email, primary: email.address === address }))
          .sort((a, b) => Number(b.primary) - Number(a.primary)),
      })),
    ),
    listNotes: vi.fn(async (id: string): Promise<NotesPage> => {
      const own = notes.filter((note) => note.person_id === id);
      return structuredClone({ notes: own, total: own.length, next_cursor: null });
    }),
    addNote: vi.fn(async (id: string, body: string): Promise<Note> => {
      if (!body.trim()) throw failure('validation_failed', 'body is required', 'body');
      made += 1;
      const note: Note = {
        id: `note-new-${made}`,
        person_id: id,
        author_id: me().id,
        author_name: me().display_name,
        body: body.trim(),
        created_at: '2026-11-24T09:00:00Z',
        updated_at: '2026-11-24T09:00:00Z',
      };
      notes = [note, ...notes];
      return structuredClone(note);
    }),
    editNote: vi.fn(async (noteId: string, body: string): Promise<Note> => {
      const note = notes.find((candidate) => candidate.id === noteId);
      if (!note) throw failure('not_found', 'not found');
      if (note.author_id !== me().id) throw failure('forbidden', 'only the author can change a note');
      note.body = body;
      note.updated_at = '2026-11-24T10:00:00Z';
      return structuredClone(note);
    }),
    deleteNote: vi.fn(async (noteId: string): Promise<void> => {
      notes = notes.filter((note) => note.id !== noteId);
    }),
    listChanges: vi.fn(async (id: string) => structuredClone({ changes: changesOf(id) })),
    mergeUsers: vi.fn(async (id: string, source: string): Promise<Person> => {
      const from = findCustomer(source);
      notes = notes.map((note) => (note.person_id === source ? { ...note, person_id: id } : note));
      files = files.map((file) => (file.person_id === source ? { ...file, person_id: id } : file));
      customers = customers.filter((record) => record.id !== source);
      return changed(id, (record) => ({
        ...record,
        emails: [...record.emails, ...from.emails.map((email) => ({ ...email, primary: false }))],
      }));
    }),
    listActivity: vi.fn(async (id: string) => {
      const at = (entry: Activity) =>
        entry.kind === 'note' ? entry.created_at : entry.kind === 'change' ? entry.changed_at : entry.at;
      const activity: Activity[] = [
        ...notes.filter((note) => note.person_id === id).map((note) => ({ kind: 'note' as const, ...note })),
        ...changesOf(id).map((change) => ({ kind: 'change' as const, ...change })),
        ...ticketActivity(id).map((ticket) => ({ kind: 'ticket' as const, ...ticket })),
      ].sort((a, b) => at(b).localeCompare(at(a)));
      return structuredClone({ activity });
    }),
    listFiles: vi.fn(async (id: string): Promise<FileList> => {
      if (people.some((person) => person.id === id)) throw failure('forbidden', 'files are kept on customers only');
      findCustomer(id);
      const own = files.filter((file) => file.person_id === id);
      return structuredClone({ files: own, max_bytes: FILE_MAX_BYTES });
    }),
    uploadFile: vi.fn(async (id: string, name: string, bytes: Uint8Array): Promise<PersonFile> => {
      if (people.some((person) => person.id === id)) throw failure('forbidden', 'files are kept on customers only');
      findCustomer(id);
      const cleaned = name.split(/[/\\]/).at(-1)!.trim();
      if (!cleaned || cleaned === '.' || cleaned === '..' || /\p{Cc}/u.test(cleaned)) {
        throw failure('validation_failed', 'name must not be empty', 'name');
      }
      if (bytes.length > FILE_MAX_BYTES) throw failure('payload_too_large', 'the file is too large', 'file');
      if (files.filter((file) => file.person_id === id).length >= FILES_MAX) {
        throw failure('conflict', `a record holds at most ${FILES_MAX} files; remove one first`, 'file');
      }
      made += 1;
      // The type comes from the bytes, never from what the uploader says.
      const text = (() => {
        try {
          return !new TextDecoder('utf-8', { fatal: true }).decode(bytes).includes('\0');
        } catch {
          return false;
        }
      })();
      const file: PersonFile = {
        id: `file-new-${made}`,
        person_id: id,
        name: cleaned,
        content_type: formatOf(bytes) ?? (text ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
        size: bytes.length,
        uploaded_by: me().id,
        uploaded_by_name: me().display_name,
        uploaded_at: `2026-11-24T10:${String(made).padStart(2, '0')}:00Z`,
      };
      files = [file, ...files];
      log(id, 'file', null, file.name);
      return structuredClone(file);
    }),
    saveFile: vi.fn(async (fileId: string, name: string): Promise<string> => {
      if (!files.some((file) => file.id === fileId)) throw failure('not_found', 'not found');
      return `/home/dana/Downloads/${name}`;
    }),
    showSavedFile: vi.fn(async (path: string): Promise<void> => {
      if (!path.startsWith('/home/dana/Downloads/')) {
        throw failure('local_file', 'Only a file saved in the downloads folder can be shown.');
      }
    }),
    deleteFile: vi.fn(async (fileId: string): Promise<void> => {
      const file = files.find((candidate) => candidate.id === fileId);
      if (!file) throw failure('not_found', 'not found');
      if (file.uploaded_by !== me().id && !admin) {
        throw failure('forbidden', 'only the agent who added a file, or an administrator, can remove it');
      }
      files = files.filter((other) => other.id !== fileId);
      log(file.person_id, 'file', file.name, null);
    }),
    listTickets: vi.fn(async (id: string, sort: TicketSort) => {
      historyOf(id);
      const own: TicketSummary[] = tickets
        .filter((ticket) => ticket.person_id === id)
        .map((ticket) => {
          const copy: Partial<typeof ticket> = { ...ticket };
          delete copy.person_id;
          return copy as TicketSummary;
        });
      return structuredClone({ tickets: sortTickets(own, sort), sort });
    }),
    listLogins: vi.fn(async (id: string) => {
      // Customers never sign in.
      if (historyOf(id) === 'user') throw failure('not_found', 'not found');
      return { sign_ins: signIns() };
    }),
    onPresenceChanged: vi.fn((handler: (change: PresenceChange) => void): Promise<() => void> => {
      presenceHandlers.add(handler);
      return Promise.resolve(() => void presenceHandlers.delete(handler));
    }),
    openTicket: vi.fn(async (url: string): Promise<void> => {
      if (!/^https?:\/\//.test(url)) throw failure('local_file', `${url} is not a web address, so it is not opened.`);
    }),
  } satisfies Partial<Backend>;

  return {
    backend,
    controls: {
      /** A colleague changes something (a status, a privacy setting) on the server. */
      changeColleague(id: string, changes: Partial<Colleague>) {
        people = people.map((person) => (person.id === id ? { ...person, ...changes } : person));
      },
      /** A colleague's status changes on the server, which tells the app at once. */
      presenceChanged(change: PresenceChange) {
        people = people.map((person) =>
          person.id === change.agent_id
            ? { ...person, status: change.status ?? undefined, status_until: change.status_until ?? undefined }
            : person,
        );
        for (const handler of presenceHandlers) handler(change);
      },
      presenceListeners: () => presenceHandlers.size,
      setColleagues(next: Colleague[]) {
        people = structuredClone(next);
        customers = [];
      },
      customers: () => structuredClone(customers),
      files: () => structuredClone(files),
      /** Someone else saves the customer's record first. */
      changeCustomerElsewhere(id: string, changes: Partial<Customer>) {
        changed(id, (record) => ({ ...record, ...changes }));
      },
    },
  };
}

/** Teams as the server keeps them for the signed-in agent (`agent-1`, who leads Billing). */
function fakeTeams(who: () => Profile) {
  const teams = teamList();
  let requests: JoinRequest[] = [joinRequest()];
  let made = 0;
  const handlers = new Set<() => void>();
  const note = (text: string | null) => {
    const trimmed = text?.trim() ?? '';
    if ([...trimmed].length > 500) throw failure('validation_failed', 'a note can have at most 500 characters', 'note');
    return trimmed || null;
  };

  const backend = {
    listTeams: vi.fn(async (): Promise<Team[]> => structuredClone(teams)),
    requestToJoinTeam: vi.fn(async (teamId: string, text: string | null): Promise<JoinRequest> => {
      const team = teams.find((candidate) => candidate.id === teamId);
      if (!team) throw failure('not_found', 'not found');
      const cleaned = note(text);
      if (team.membership === 'lead' || team.membership === 'member') {
        throw failure('conflict', 'you are already in this team');
      }
      if (team.membership === 'requested') {
        throw failure('conflict', 'you have already asked to join this team; a lead has not decided yet');
      }
      made += 1;
      const request = joinRequest({
        id: `mine-${made}`,
        team_id: team.id,
        team_name: team.name,
        requester_id: who().id,
        requester_name: who().display_name,
        requester_email: who().email,
        note: cleaned,
        created_at: new Date().toISOString(),
      });
      requests = [request, ...requests];
      team.membership = 'requested';
      return structuredClone(request);
    }),
    listJoinRequests: vi.fn(
      async (): Promise<JoinRequests> =>
        structuredClone({
          mine: requests.filter((request) => request.requester_id === who().id),
          to_decide: requests.filter(
            (request) =>
              request.state === 'open' &&
              teams.some((team) => team.id === request.team_id && team.membership === 'lead'),
          ),
        }),
    ),
    decideJoinRequest: vi.fn(async (requestId: string, approve: boolean, text: string | null) => {
      const request = requests.find((candidate) => candidate.id === requestId);
      if (!request) throw failure('not_found', 'not found');
      const cleaned = note(text);
      const team = teams.find((candidate) => candidate.id === request.team_id);
      if (team?.membership !== 'lead') {
        throw failure('forbidden', 'only a lead of this team or an administrator can decide on its requests');
      }
      if (request.state !== 'open') throw failure('conflict', `this request was already ${request.state}`);
      request.state = approve ? 'approved' : 'denied';
      request.decided_by = who().display_name;
      request.decided_at = new Date().toISOString();
      request.decision_note = cleaned;
      if (approve) team.member_count += 1;
      return structuredClone(request);
    }),
    onTeamsChanged: vi.fn((handler: () => void): Promise<() => void> => {
      handlers.add(handler);
      return Promise.resolve(() => void handlers.delete(handler));
    }),
  } satisfies Partial<Backend>;

  return {
    backend,
    controls: {
      teams: () => structuredClone(teams),
      joinRequests: () => structuredClone(requests),
      /** Someone asks to join a team, or a lead decides, elsewhere; the backend says so. */
      teamsChangedElsewhere(change: (teams: Team[], requests: JoinRequest[]) => JoinRequest[] | void) {
        requests = change(teams, requests) ?? requests;
        for (const handler of handlers) handler();
      },
      teamsListeners: () => handlers.size,
    },
  };
}

export function fakeBackend(start: Profile = profile(), options: AlertsOptions = {}) {
  let current: VersionedProfile = { profile: start, etag: '"1"' };
  let version = 1;
  let password = PASSWORD;
  let open = sessions();
  const attempts = signIns();
  /** Size of the next photo picked, as the Rust side would read it from the file. */
  let picked = { width: 1200, height: 800 };
  const prepared = new Map<string, AvatarSource>();
  let photos = 0;
  const audio = fakeAudio();
  const profileHandlers = new Set<(profile: VersionedProfile) => void>();
  const sessionEndedHandlers = new Set<() => void>();
  const alerts = fakeAlerts(
    options,
    () => current.profile,
    // The status travels on its own route; the profile's version stays.
    (status, until) => (current = { ...current, profile: { ...current.profile, status, status_until: until } }),
  );
  const teams = fakeTeams(() => current.profile);
  const people = fakePeople(() => current.profile, options.admin ?? false);

  function nextVersion(changes: Partial<Profile>): VersionedProfile {
    version += 1;
    current = { profile: { ...current.profile, ...changes }, etag: `"${version}"` };
    return current;
  }

  const backend = {
    appInfo: vi.fn(async (): Promise<AppInfo> => ({ version: '0.1.0', server_url: 'http://127.0.0.1:8787/', email: null })),
    restoreSession: vi.fn(async (): Promise<VersionedProfile | null> => current),
    signIn: vi.fn(async (serverUrl: string) => {
      insecure(serverUrl);
      return { profile: current, remembered: true };
    }),
    signOut: vi.fn(async () => {}),
    getProfile: vi.fn(async () => current),
    updateProfile: vi.fn(async (patch: ProfilePatch, etag: string): Promise<VersionedProfile> => {
      if (etag !== current.etag) {
        const conflict: IpcError = { code: 'version_conflict', message: 'stale', field: null };
        throw conflict;
      }
      const errors = validate(patch);
      if (errors.length > 0) {
        const refusal: IpcError = {
          code: 'validation_failed',
          message: errors.map((error) => `${error.field}: ${error.message}`).join('; '),
          field: errors[0]!.field,
          details: errors,
        };
        throw refusal;
      }
      const next = { ...current.profile };
      for (const [key, value] of Object.entries(patch)) {
        if (key === 'department') continue;
        (next as Record<string, unknown>)[key] = value === '' ? null : value;
      }
      // As the server: a department is asked for, not set; the one in force withdraws.
      if (patch.department !== undefined) {
        const wanted = patch.department.trim() || null;
        const same = (a: string | null, b: string | null) => (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
        if (same(next.department, wanted)) next.department_request = null;
        else if (!next.department_request || !same(next.department_request.value, wanted)) {
          next.department_request = { value: wanted, requested_at: new Date().toISOString() };
        }
      }
      if (JSON.stringify(next) === JSON.stringify(current.profile)) return structuredClone(current);
      version += 1;
      current = { profile: next, etag: `"${version}"` };
      return structuredClone(current);
    }),
    validateProfile: vi.fn(async (patch: ProfilePatch) => validate(patch)),
    listTimezones: vi.fn(async () => [
      { name: 'America/New_York', offset_minutes: -300 },
      { name: 'Europe/Berlin', offset_minutes: 60 },
      { name: 'Europe/London', offset_minutes: 0 },
    ]),
    listLanguages: vi.fn(async () => structuredClone(APP_LANGUAGES)),
    setUnsavedChanges: vi.fn(async () => {}),
    quitDiscardingChanges: vi.fn(async () => {}),
    onCloseRequested: vi.fn<Backend['onCloseRequested']>(async () => () => {}),
    serverPolicy: vi.fn(async () => ({ password: policy, password_reset_valid_minutes: 30, avatar: avatarPolicy })),
    checkPassword: vi.fn(async (candidate: string, current: string | null, personal: string[]) =>
      checkPassword(candidate, current, personal),
    ),
    changePassword: vi.fn(async (currentPassword: string, newPassword: string, keepOtherSessions: boolean) => {
      if (currentPassword !== password) {
        throw failure('wrong_password', 'the current password is wrong', 'current_password');
      }
      const personal = [current.profile.email, current.profile.display_name];
      const broken = checkPassword(newPassword, currentPassword, personal).rules.find((result) => !result.passed);
      if (broken) throw failure('password_rejected', `new password breaks ${broken.rule}`, 'new_password');
      password = newPassword;
      const ended = keepOtherSessions ? 0 : open.filter((session) => !session.current).length;
      if (!keepOtherSessions) open = open.filter((session) => session.current);
      return { signed_out_sessions: ended };
    }),
    requestPasswordReset: vi.fn(async (serverUrl: string, email: string) => {
      if (!/^https?:\/\//.test(serverUrl)) throw failure('invalid_server_url', 'not an http(s) URL', 'server_url');
      insecure(serverUrl);
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) {
        throw failure('invalid_email', 'email is not a valid email address', 'email');
      }
      return {
        message: 'If an account exists for this address, a link to reset its password is on its way.',
        valid_minutes: 30,
      };
    }),
    listSessions: vi.fn(async () => ({
      sessions: open.map((session) => ({ ...session })),
      recent_sign_ins: attempts.map((attempt) => ({ ...attempt })),
    })),
    endSession: vi.fn(async (sessionId: string) => {
      if (!open.some((session) => session.id === sessionId)) throw failure('not_found', 'no such session');
      open = open.filter((session) => session.id !== sessionId);
    }),
    signOutOtherSessions: vi.fn(async () => {
      const ended = open.filter((session) => !session.current).length;
      open = open.filter((session) => session.current);
      return { signed_out_sessions: ended };
    }),
    prepareAvatar: vi.fn(async (bytes: Uint8Array): Promise<AvatarSource> => {
      if (bytes.length > avatarPolicy.max_bytes) throw failure('payload_too_large', 'photo too large', 'photo');
      const format = formatOf(bytes);
      if (!format) throw failure('unsupported_image', 'not a JPEG, PNG, GIF or WebP image', 'photo');
      const source = { source_id: `source-${prepared.size + 1}`, format, ...picked, preview: PREVIEW };
      prepared.set(source.source_id, source);
      return source;
    }),
    saveAvatar: vi.fn(async (sourceId: string, crop: AvatarCrop): Promise<VersionedProfile> => {
      const source = prepared.get(sourceId);
      if (!source) throw failure('not_found', 'no such photo', 'photo');
      const whole = [crop.x, crop.y, crop.size, crop.quarter_turns].every(Number.isInteger);
      if (!whole || crop.size < 1 || crop.x + crop.size > source.width || crop.y + crop.size > source.height) {
        throw failure('invalid_crop', 'crop outside the photo', 'photo');
      }
      photos += 1;
      return nextVersion({ avatar_url: `/api/v1/avatars/photo-${photos}` });
    }),
    discardAvatar: vi.fn(async () => {}),
    removeAvatar: vi.fn(async () => nextVersion({ avatar_url: null })),
    avatarImage: vi.fn(async (url: string) => {
      if (url !== current.profile.avatar_url) throw failure('not_found', 'no such photo');
      return photoData(url);
    }),
    initialsAvatar: vi.fn(async (_id: string, displayName: string) => ({
      text: displayName
        .split(/\s+/)
        .filter((word) => /^\p{L}/u.test(word))
        .map((word) => word[0]!.toUpperCase())
        .filter((_, i, all) => i === 0 || i === all.length - 1)
        .join(''),
      background: '#2f5d8a',
      foreground: '#ffffff',
    })),
    onProfileChanged: vi.fn((handler: (profile: VersionedProfile) => void): Promise<() => void> => {
      profileHandlers.add(handler);
      return Promise.resolve(() => void profileHandlers.delete(handler));
    }),
    onSessionEnded: vi.fn((handler: () => void): Promise<() => void> => {
      sessionEndedHandlers.add(handler);
      return Promise.resolve(() => void sessionEndedHandlers.delete(handler));
    }),
    ...audio.backend,
    ...alerts.backend,
    ...teams.backend,
    ...people.backend,
  } satisfies Backend;
  return {
    backend,
    /** Someone else changes the profile on the server. */
    changeElsewhere(changes: Partial<Profile>) {
      version += 1;
      current = { profile: { ...current.profile, ...changes }, etag: `"${version}"` };
    },
    current: () => current,
    /** Someone else changes the profile on the server, and the backend says so. */
    profileChangedElsewhere(changes: Partial<Profile>) {
      version += 1;
      current = { profile: { ...current.profile, ...changes }, etag: `"${version}"` };
      for (const handler of profileHandlers) handler(structuredClone(current));
    },
    /** An administrator decides the agent's request to change department; the backend
     * then reports the new profile, as the shell does on `profile.updated`. */
    decideDepartmentRequest(approve: boolean) {
      const request = current.profile.department_request;
      if (!request) throw new Error('no department request is waiting');
      version += 1;
      const department = approve ? request.value : current.profile.department;
      current = { profile: { ...current.profile, department, department_request: null }, etag: `"${version}"` };
      for (const handler of profileHandlers) handler(structuredClone(current));
    },
    /** The server ends the session (signed out elsewhere, password changed or reset): the
     * shell's event stream is closed and it says so. */
    endSessionOnServer() {
      for (const handler of sessionEndedHandlers) handler();
    },
    sessionEndedListeners: () => sessionEndedHandlers.size,
    /** The next photo the agent picks has this size. */
    pickPhotoOf(width: number, height: number) {
      picked = { width, height };
    },
    password: () => password,
    openSessions: () => open,
    ...audio.controls,
    ...alerts.controls,
    ...teams.controls,
    ...people.controls,
  };
}
