// The UI's message catalogs and the current language. `t()` reads reactive state, so
// every string on screen follows a change of language at once.

import type { FieldError } from '../generated/FieldError';
import type { IpcError } from '../generated/IpcError';
import { de } from './de';
import { en, type Catalog, type MessageKey } from './en';

export type { MessageKey };

const catalogs: Record<string, Catalog> = { en, de };

let current = $state<string>('en');

/** The catalog language for a BCP 47 tag: `de-AT` → `de`, unknown → `en`. */
export function catalogFor(tag: string): string {
  const base = tag.split('-')[0]?.toLowerCase() ?? 'en';
  return base in catalogs ? base : 'en';
}

export function setLanguage(tag: string): void {
  current = catalogFor(tag);
  if (typeof document !== 'undefined') document.documentElement.lang = current;
}

export function language(): string {
  return current;
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = (catalogs[current] ?? en)[key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Keys with plural forms: `base.one`, `base.other` (and any other CLDR category a catalog needs). */
export type PluralKey = { [K in MessageKey]: K extends `${infer Base}.other` ? Base : never }[MessageKey];

/** A message in the plural form the current language uses for `count`; `{count}` is filled in. */
export function plural(base: PluralKey, count: number, params: Record<string, string | number> = {}): string {
  const key = `${base}.${new Intl.PluralRules(current).select(count)}`;
  return t((key in en ? key : `${base}.other`) as MessageKey, { ...params, count });
}

/** A date and time in the current language, in the computer's time zone. */
export function formatDateTime(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(time);
}

const DAY: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit' };

/** A time of day in the current language; with the weekday when it is not on `now`'s day. */
export function formatClock(iso: string, now: number = Date.now()): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const day = new Intl.DateTimeFormat('en', DAY);
  const options: Intl.DateTimeFormatOptions =
    day.format(time) === day.format(now)
      ? { timeStyle: 'short' }
      : { weekday: 'short', hour: 'numeric', minute: '2-digit' };
  return new Intl.DateTimeFormat(current, options).format(time);
}

/** How long ago `iso` was, for the last day ("5 min. ago"); older times as a date and time. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const minutes = Math.round((now - time) / 60_000);
  const relative = new Intl.RelativeTimeFormat(current, { numeric: 'auto', style: 'short' });
  if (minutes < 1) return relative.format(0, 'second');
  if (minutes < 60) return relative.format(-minutes, 'minute');
  if (minutes < 24 * 60) return relative.format(-Math.floor(minutes / 60), 'hour');
  return formatDateTime(iso);
}

/** A field error in the current language, chosen by its code. */
export function fieldMessage(error: FieldError): string {
  return t(`validation.${error.code}` as MessageKey, { max: error.max ?? '' });
}

/** A command failure in the current language, chosen by its code. */
export function errorMessage(error: IpcError): string {
  // JSON has no bigint: whatever the generated type says, the seconds arrive as a number.
  const wait = Math.ceil(error.retry_after_seconds ?? 0);
  if (error.code === 'rate_limited' && wait > 0) return plural('error.rate_limited.wait', wait);
  const key = `error.${error.code}`;
  if (key in en) return t(key as MessageKey, { message: error.message });
  return t('error.generic', { message: error.message });
}
