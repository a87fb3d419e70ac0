// A backend for screen tests: an in-memory server with a few of the real rules.
// The real rules and the real server are exercised by the Rust and end-to-end tests.

import { vi } from 'vitest';
import type { Backend } from '../lib/backend';
import type { AppInfo } from '../lib/generated/AppInfo';
import type { FieldError } from '../lib/generated/FieldError';
import type { IpcError } from '../lib/generated/IpcError';
import type { PasswordCheck } from '../lib/generated/PasswordCheck';
import type { PasswordPolicy } from '../lib/generated/PasswordPolicy';
import type { PasswordRule } from '../lib/generated/PasswordRule';
import type { Profile } from '../lib/generated/Profile';
import type { ProfilePatch } from '../lib/generated/ProfilePatch';
import type { SessionInfo } from '../lib/generated/SessionInfo';
import type { SignInAttempt } from '../lib/generated/SignInAttempt';
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
    phone: null,
    mobile: null,
    office_location: null,
    timezone: 'Europe/Berlin',
    language: 'en',
    signature: null,
    use_signature: false,
    operator_id: null,
    avatar_url: null,
    status: 'available',
    updated_at: '2026-11-23T10:00:00Z',
    ...overrides,
  };
}

export function validate(patch: ProfilePatch): FieldError[] {
  const errors: FieldError[] = [];
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

/** A throttled request as the backend answers it. */
export function rateLimited(seconds: number): IpcError {
  return { code: 'rate_limited', message: 'too many attempts', field: null, retry_after_seconds: seconds };
}

export function fakeBackend(start: Profile = profile()) {
  let current: VersionedProfile = { profile: start, etag: '"1"' };
  let version = 1;
  let password = PASSWORD;
  let open = sessions();
  const attempts = signIns();
  const backend = {
    appInfo: vi.fn(async (): Promise<AppInfo> => ({ version: '0.1.0', server_url: 'http://127.0.0.1:8787/', email: null })),
    restoreSession: vi.fn(async (): Promise<VersionedProfile | null> => current),
    signIn: vi.fn(async () => ({ profile: current, remembered: true })),
    signOut: vi.fn(async () => {}),
    getProfile: vi.fn(async () => current),
    updateProfile: vi.fn(async (patch: ProfilePatch, etag: string): Promise<VersionedProfile> => {
      if (etag !== current.etag) {
        const conflict: IpcError = { code: 'version_conflict', message: 'stale', field: null };
        throw conflict;
      }
      const next = { ...current.profile };
      for (const [key, value] of Object.entries(patch)) {
        (next as Record<string, unknown>)[key] = value === '' ? null : value;
      }
      version += 1;
      current = { profile: next, etag: `"${version}"` };
      return current;
    }),
    validateProfile: vi.fn(async (patch: ProfilePatch) => validate(patch)),
    listTimezones: vi.fn(async () => [
      { name: 'America/New_York', offset_minutes: -300 },
      { name: 'Europe/Berlin', offset_minutes: 60 },
      { name: 'Europe/London', offset_minutes: 0 },
    ]),
    listLanguages: vi.fn(async () => [
      { tag: 'en', name: 'English' },
      { tag: 'de', name: 'Deutsch' },
    ]),
    setUnsavedChanges: vi.fn(async () => {}),
    quitDiscardingChanges: vi.fn(async () => {}),
    onCloseRequested: vi.fn<Backend['onCloseRequested']>(async () => () => {}),
    passwordPolicy: vi.fn(async () => ({ password: policy, password_reset_valid_minutes: 30 })),
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
  } satisfies Backend;
  return {
    backend,
    /** Someone else changes the profile on the server. */
    changeElsewhere(changes: Partial<Profile>) {
      version += 1;
      current = { profile: { ...current.profile, ...changes }, etag: `"${version}"` };
    },
    current: () => current,
    password: () => password,
    openSessions: () => open,
  };
}
