import { describe, expect, it } from 'vitest';
import { reading } from '../../test/fake-backend';
import { PEAK_HOLD_MS, clampDbfs, hintFor, holdPeak, meterPercent, peakAt, zoneOf } from './meter';

describe('level meter', () => {
  it('puts levels on a −60…0 dBFS scale, silence at the bottom', () => {
    expect(meterPercent(-60)).toBe(0);
    expect(meterPercent(-30)).toBe(50);
    expect(meterPercent(0)).toBe(100);
    expect(meterPercent(-100)).toBe(0);
    expect(meterPercent(3)).toBe(100);
    expect(clampDbfs(-Infinity)).toBe(-60);
    expect(clampDbfs(Number.NaN)).toBe(-60);
    // Silence may arrive as null: JSON has no infinity.
    expect(clampDbfs(null)).toBe(-60);
  });

  it('colours too quiet, good and too loud', () => {
    expect(zoneOf(-55)).toBe('quiet');
    expect(zoneOf(-40)).toBe('good');
    expect(zoneOf(-18)).toBe('good');
    expect(zoneOf(-6)).toBe('loud');
    expect(zoneOf(0)).toBe('loud');
  });

  it('holds a peak, then lets it fall no lower than the current one', () => {
    let held = holdPeak(null, -10, 0);
    expect(peakAt(held, 0)).toBe(-10);
    held = holdPeak(held, -30, 500);
    expect(peakAt(held, 500)).toBe(-10);
    expect(peakAt(held, PEAK_HOLD_MS)).toBe(-10);
    // Falls at 24 dB a second once held long enough.
    expect(peakAt(held, PEAK_HOLD_MS + 500)).toBeCloseTo(-22);
    held = holdPeak(held, -30, PEAK_HOLD_MS + 1000);
    expect(peakAt(held, PEAK_HOLD_MS + 1000)).toBe(-30);
    // A louder peak jumps up at once.
    held = holdPeak(held, -3, PEAK_HOLD_MS + 1010);
    expect(peakAt(held, PEAK_HOLD_MS + 1010)).toBe(-3);
  });

  it('hints at silence first, then distortion, then a quiet voice', () => {
    expect(hintFor(reading())).toBe('good');
    expect(hintFor(reading({ too_quiet: true }))).toBe('too_quiet');
    expect(hintFor(reading({ too_quiet: true, clipping: true }))).toBe('clipping');
    expect(hintFor(reading({ no_signal: true, too_quiet: true }))).toBe('no_signal');
  });
});
