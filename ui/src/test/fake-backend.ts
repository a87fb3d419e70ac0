// A backend for screen tests: an in-memory server with a few of the real rules.
// The real rules and the real server are exercised by the Rust and end-to-end tests.

import { vi } from 'vitest';
import type { Backend } from '../lib/backend';
import type { FieldError } from '../lib/generated/FieldError';
import type { IpcError } from '../lib/generated/IpcError';
import type { Profile } from '../lib/generated/Profile';
import type { ProfilePatch } from '../lib/generated/ProfilePatch';
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

export function fakeBackend(start: Profile = profile()) {
  let current: VersionedProfile = { profile: start, etag: '"1"' };
  let version = 1;
  const backend = {
    appInfo: vi.fn(async () => ({ version: '0.1.0', server_url: 'http://127.0.0.1:8787/', email: null })),
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
  } satisfies Backend;
  return {
    backend,
    /** Someone else changes the profile on the server. */
    changeElsewhere(changes: Partial<Profile>) {
      version += 1;
      current = { profile: { ...current.profile, ...changes }, etag: `"${version}"` };
    },
    current: () => current,
  };
}
