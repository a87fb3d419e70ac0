import { afterEach, describe, expect, it } from 'vitest';
import { APP_LANGUAGES, EVENT_TYPES } from '../generated/constants';
import { rateLimited } from '../../test/fake-backend';
import type { IpcError } from '../generated/IpcError';
import { de } from './de';
import { en } from './en';
import {
  catalogFor,
  errorMessage,
  fieldMessage,
  formatClock,
  formatDateTime,
  formatRelative,
  plural,
  setLanguage,
  t,
} from './index.svelte';

describe('message catalogs', () => {
  afterEach(() => setLanguage('en'));

  it('German has every English key and no others', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });

  it('keeps placeholders in every translation', () => {
    for (const [key, english] of Object.entries(en)) {
      const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(de[key as keyof typeof en]), key).toEqual(names(english));
    }
  });

  it('has a catalog for every language an agent may choose, as core lists them', () => {
    expect(APP_LANGUAGES.map((language) => catalogFor(language.tag))).toEqual(APP_LANGUAGES.map((language) => language.tag));
  });

  it('picks a catalog by language tag and falls back to English', () => {
    expect(catalogFor('de')).toBe('de');
    expect(catalogFor('de-AT')).toBe('de');
    expect(catalogFor('fr')).toBe('en');
  });

  it('switches language and fills parameters', () => {
    setLanguage('de');
    expect(t('profile.save')).toBe('Speichern');
    expect(t('validation.too_long', { max: 100 })).toBe('Höchstens 100 Zeichen.');
    setLanguage('en');
    expect(t('profile.save')).toBe('Save');
  });

  it('words errors by their code, not their message', () => {
    expect(fieldMessage({ field: 'phone', code: 'invalid_phone', message: 'x' })).toBe(
      'This is not a valid phone number.',
    );
    expect(errorMessage({ code: 'invalid_credentials', message: 'x', field: null })).toBe(
      'Wrong email or password.',
    );
    expect(errorMessage({ code: 'method_not_allowed', message: 'boom', field: null })).toBe('Something went wrong: boom');
    expect(errorMessage({ code: 'request_timeout', message: 'x', field: null })).toBe(
      'The connection to the server was too slow and the change was not sent. Check the network and try again.',
    );
  });

  it('words the new account errors by code, with the wait when throttled', () => {
    expect(errorMessage({ code: 'wrong_password', message: 'x', field: 'current_password' })).toBe(
      'This is not your current password.',
    );
    expect(errorMessage({ code: 'invalid_email', message: 'x', field: 'email' })).toBe('Enter a valid email address.');
    expect(errorMessage({ code: 'rate_limited', message: 'x', field: null })).toBe(
      'Too many attempts. Wait a moment and try again.',
    );
    const wait = (seconds: number) => errorMessage(rateLimited(seconds));
    expect(wait(1)).toBe('Too many attempts. Try again in 1 second.');
    expect(wait(2.2)).toBe('Too many attempts. Try again in 3 seconds.');
    setLanguage('de');
    expect(wait(1)).toBe('Zu viele Versuche. Versuche es in 1 Sekunde erneut.');
    expect(wait(30)).toBe('Zu viele Versuche. Versuche es in 30 Sekunden erneut.');
  });

  it('words a failure on this computer by its code', () => {
    expect(errorMessage({ code: 'local_file', message: 'There is no downloads folder', field: null })).toBe(
      'Something went wrong on this computer: There is no downloads folder',
    );
    setLanguage('de');
    expect(errorMessage({ code: 'local_file', message: 'x', field: null })).toBe(
      'Auf diesem Computer ist etwas schiefgegangen: x',
    );
  });

  it('words an internal failure, a failure of the settings or of a missing sign-in by its code', () => {
    const failure = (code: IpcError['code']): IpcError => ({ code, message: 'detail', field: null });
    expect(errorMessage(failure('internal'))).toBe(
      'Something went wrong. Try again in a moment.',
    );
    expect(errorMessage(failure('settings'))).toBe('Your settings could not be saved on this computer.');
    expect(errorMessage(failure('not_signed_in'))).toBe('You are not signed in. Sign in again.');
    setLanguage('de');
    expect(errorMessage(failure('internal'))).toBe(
      'Etwas ist schiefgegangen. Versuche es gleich noch einmal.',
    );
    expect(errorMessage(failure('settings'))).toBe('Deine Einstellungen konnten auf diesem Computer nicht gespeichert werden.');
    expect(errorMessage(failure('not_signed_in'))).toBe('Du bist nicht angemeldet. Melde dich erneut an.');
  });

  it('words audio failures by their code', () => {
    const failure = (code: IpcError['code']): IpcError => ({ code, message: 'detail', field: null });
    for (const code of ['audio_no_device', 'audio_cannot_open', 'audio_disconnected', 'audio_timeout'] as const) {
      expect(errorMessage(failure(code)), code).not.toContain('Something went wrong');
    }
    expect(errorMessage(failure('audio_backend'))).toBe('The sound system reported a problem: detail');
    setLanguage('de');
    expect(errorMessage(failure('audio_disconnected'))).toBe(
      'Die Verbindung zum Gerät ist abgebrochen. Schließ es wieder an oder wähl ein anderes.',
    );
  });

  it('picks plural forms by count', () => {
    expect(plural('account.sessions.endedOthers', 1)).toBe('1 other session has been signed out.');
    expect(plural('account.sessions.endedOthers', 0)).toBe('0 other sessions have been signed out.');
    expect(plural('reset.validity', 30)).toBe('The link works once, for 30 minutes.');
    setLanguage('de');
    expect(plural('account.password.changed', 1)).toBe(
      'Dein Passwort wurde geändert und 1 andere Sitzung wurde abgemeldet.',
    );
  });

  it('has a "one" and an "other" form for every plural message', () => {
    for (const key of Object.keys(en).filter((key) => /\.(one|other)$/.test(key))) {
      const base = key.replace(/\.(one|other)$/, '');
      expect(Object.keys(en), key).toContain(`${base}.one`);
      expect(Object.keys(en), key).toContain(`${base}.other`);
    }
  });

  it('keeps the visible text of toggle and sign-out buttons in their spoken names', () => {
    for (const catalog of [en, de]) {
      for (const key of ['account.password.showCurrent', 'account.password.showNew'] as const) {
        expect(catalog[key].toLowerCase()).toContain(catalog['account.password.show'].toLowerCase());
      }
      expect(catalog['account.sessions.signOutLabel'].toLowerCase()).toContain(
        catalog['account.sessions.signOut'].toLowerCase(),
      );
      for (const key of ['devices.speaker.test', 'devices.alerts.test'] as const) {
        expect(catalog[key].toLowerCase()).toContain(catalog['devices.test'].toLowerCase());
      }
    }
  });

  it('formats dates in the UI language', () => {
    const at = '2026-11-23T10:00:00Z';
    expect(formatDateTime(at)).toContain('2026');
    expect(formatDateTime(at)).toContain('Nov');
    setLanguage('de');
    expect(formatDateTime(at)).toContain('23.11.2026');
    expect(formatDateTime('not a date')).toBe('not a date');
  });

  it('formats a time of day, with the weekday when it is not today', () => {
    const now = new Date(2026, 10, 23, 10, 20).getTime();
    const at = (hours: number, minutes: number, day = 23) => new Date(2026, 10, day, hours, minutes).toISOString();
    setLanguage('de');
    expect(formatClock(at(14, 0), now)).toBe('14:00');
    expect(formatClock(at(9, 30, 24), now)).toBe('Di., 09:30');
    setLanguage('en');
    expect(formatClock(at(14, 0), now)).toMatch(/^2:00\sPM$/);
    expect(formatClock('soon', now)).toBe('soon');
  });

  it('says how long ago, for a day, then the date', () => {
    const now = new Date(2026, 10, 23, 10, 20).getTime();
    const at = (hours: number, minutes: number, day = 23) => new Date(2026, 10, day, hours, minutes).toISOString();
    expect(formatRelative(at(10, 20), now)).toBe('now');
    expect(formatRelative(at(10, 15), now)).toBe('5 min. ago');
    expect(formatRelative(at(8, 0), now)).toBe('2 hr. ago');
    expect(formatRelative(at(10, 0, 20), now)).toContain('2026');
    setLanguage('de');
    expect(formatRelative(at(10, 15), now)).toBe('vor 5 Min.');
  });

  it('has a label for every event type, a priority and a self-test problem in both languages', () => {
    const needed = [
      ...EVENT_TYPES.map((type) => `event.${type}.label`),
      ...EVENT_TYPES.map((type) => `event.${type}.happened`),
      ...['low', 'normal', 'high', 'urgent', 'critical'].map((priority) => `priority.${priority}`),
      ...[
        'no_session_bus',
        'no_notification_service',
        'service_not_answering',
        'permission_denied',
        'no_sound_device',
        'sound_failed',
      ].map((problem) => `selftest.problem.${problem}`),
    ];
    for (const key of needed) {
      expect(en, key).toHaveProperty([key]);
      expect(de, key).toHaveProperty([key]);
      expect(de[key as keyof typeof de], key).not.toBe('');
    }
  });
});
