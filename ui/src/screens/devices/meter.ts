// The level meter's arithmetic: where a level sits on the scale, its colour zone, how
// long the peak marker holds, and which hint a reading calls for.

import type { MeterReading } from './types';

/** The scale shown, in dBFS. */
export const METER_MIN = -60;
export const METER_MAX = 0;

/** Above this the voice gets close to distorting. */
export const LOUD_DBFS = -6;
/** Below this speech is hard to hear over the line. */
export const QUIET_DBFS = -40;

/** How long the peak marker stays at a new peak before it falls back. */
export const PEAK_HOLD_MS = 1200;
/** How fast it falls after that. */
export const PEAK_FALL_DB_PER_S = 24;

/** A level on the scale; silence and anything odd reads as the bottom. */
export function clampDbfs(dbfs: number | null | undefined): number {
  if (typeof dbfs !== 'number' || Number.isNaN(dbfs)) return METER_MIN;
  return Math.min(METER_MAX, Math.max(METER_MIN, dbfs));
}

/** How far along the scale a level is, 0–100. */
export function meterPercent(dbfs: number): number {
  return ((clampDbfs(dbfs) - METER_MIN) / (METER_MAX - METER_MIN)) * 100;
}

export type Zone = 'quiet' | 'good' | 'loud';

export function zoneOf(dbfs: number): Zone {
  const level = clampDbfs(dbfs);
  if (level >= LOUD_DBFS) return 'loud';
  if (level < QUIET_DBFS) return 'quiet';
  return 'good';
}

/** The peak marker: where it stands and since when. */
export type HeldPeak = { dbfs: number; at: number };

/** The marker after a reading whose peak is `peak` at time `now` (ms): it jumps up at
 * once, holds, then falls steadily until a reading reaches it again. */
export function holdPeak(held: HeldPeak | null, peak: number, now: number): HeldPeak {
  const level = clampDbfs(peak);
  return !held || level >= peakAt(held, now) ? { dbfs: level, at: now } : held;
}

/** Where the held marker is drawn at `now`. */
export function peakAt(held: HeldPeak | null, now: number): number {
  if (!held) return METER_MIN;
  const falling = Math.max(0, now - held.at - PEAK_HOLD_MS);
  return clampDbfs(held.dbfs - (falling / 1000) * PEAK_FALL_DB_PER_S);
}

export type Hint = 'no_signal' | 'clipping' | 'too_quiet' | 'good';

/** What to tell the agent about a reading: silence first, then distortion, then a quiet voice. */
export function hintFor(reading: MeterReading): Hint {
  if (reading.no_signal) return 'no_signal';
  if (reading.clipping) return 'clipping';
  if (reading.too_quiet) return 'too_quiet';
  return 'good';
}
