// The agent's availability as the status control offers it: the statuses in menu order
// and when a status chosen "for …" or "until …" ends. Pure, so it is unit-tested.

import type { Status } from './generated/Status';

export const STATUSES: readonly Status[] = ['available', 'busy', 'away', 'dnd', 'offline'];

/** How long a chosen status lasts. */
export type Duration = 'none' | '30m' | '1h' | 'today' | 'custom';

export const DURATIONS: readonly Duration[] = ['none', '30m', '1h', 'today', 'custom'];

const MINUTE = 60_000;

/** RFC 3339 in UTC, to the second. */
export function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * When a status chosen now for `duration` ends, as RFC 3339, or null when it lasts until
 * changed. `clock` is the custom end, `HH:MM` local time: today if still ahead, else
 * tomorrow. Returns undefined when a custom end is needed but missing or malformed.
 */
export function untilFor(duration: Duration, now: Date, clock = ''): string | null | undefined {
  switch (duration) {
    case 'none':
      return null;
    case '30m':
      return rfc3339(new Date(now.getTime() + 30 * MINUTE));
    case '1h':
      return rfc3339(new Date(now.getTime() + 60 * MINUTE));
    case 'today': {
      const end = new Date(now);
      end.setHours(23, 59, 0, 0);
      // A minute before midnight "the end of today" is the next minute.
      return rfc3339(end > now ? end : new Date(now.getTime() + MINUTE));
    }
    case 'custom': {
      const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(clock);
      if (!match) return undefined;
      const end = new Date(now);
      end.setHours(Number(match[1]), Number(match[2]), 0, 0);
      if (end <= now) end.setDate(end.getDate() + 1);
      return rfc3339(end);
    }
  }
}
