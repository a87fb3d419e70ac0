import { describe, expect, it } from 'vitest';
import { rfc3339, untilFor } from './status';

/** 10:20:30 local time on a Monday. */
const now = new Date(2026, 10, 23, 10, 20, 30);

function local(iso: string | null | undefined) {
  const time = new Date(iso!);
  return [time.getDate(), time.getHours(), time.getMinutes()];
}

describe('status until', () => {
  it('lasts until changed when no duration is chosen', () => {
    expect(untilFor('none', now)).toBeNull();
  });

  it('ends after 30 minutes or an hour, in RFC 3339 to the second', () => {
    expect(untilFor('30m', now)).toBe(rfc3339(new Date(now.getTime() + 30 * 60_000)));
    expect(untilFor('1h', now)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(untilFor('1h', now)!) - now.getTime()).toBe(60 * 60_000);
  });

  it('ends at 23:59 local time for "the end of today"', () => {
    expect(local(untilFor('today', now))).toEqual([23, 23, 59]);
    const late = new Date(2026, 10, 23, 23, 59, 30);
    expect(Date.parse(untilFor('today', late)!)).toBeGreaterThan(late.getTime());
  });

  it('ends at a chosen time today, or tomorrow when it has passed', () => {
    expect(local(untilFor('custom', now, '14:00'))).toEqual([23, 14, 0]);
    expect(local(untilFor('custom', now, '09:30'))).toEqual([24, 9, 30]);
    expect(untilFor('custom', now, '')).toBeUndefined();
    expect(untilFor('custom', now, '25:00')).toBeUndefined();
  });
});
