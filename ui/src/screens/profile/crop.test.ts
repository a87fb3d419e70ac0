import { describe, expect, it } from 'vitest';
import {
  avatarCrop,
  clampCrop,
  frameLimits,
  fullCrop,
  maxZoom,
  pan,
  placement,
  toSource,
  toView,
  turn,
  turnedSize,
  zoomOf,
  zoomTo,
  type Crop,
  type Size,
} from './crop';

const landscape: Size = { width: 400, height: 300 };

type Grid = number[][];

/** A photo as rows of pixel numbers. */
function grid({ width, height }: Size): Grid {
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => y * width + x));
}

function turnClockwise(pixels: Grid): Grid {
  const height = pixels.length;
  const width = pixels[0]!.length;
  return Array.from({ length: width }, (_, y) => Array.from({ length: height }, (_, x) => pixels[height - 1 - x]![y]!));
}

function turned(pixels: Grid, quarterTurns: number): Grid {
  let result = pixels;
  for (let i = 0; i < quarterTurns; i += 1) result = turnClockwise(result);
  return result;
}

function cut(pixels: Grid, { x, y, size }: { x: number; y: number; size: number }): Grid {
  return pixels.slice(y, y + size).map((row) => row.slice(x, x + size));
}

describe('crop geometry', () => {
  it('maps a square in the turned view back to the source, for every quarter turn', () => {
    const view = { x: 10, y: 20, size: 50 };
    expect(toSource(view, landscape, 0)).toEqual({ x: 10, y: 20, size: 50 });
    expect(toSource(view, landscape, 1)).toEqual({ x: 20, y: 240, size: 50 });
    expect(toSource(view, landscape, 2)).toEqual({ x: 340, y: 230, size: 50 });
    expect(toSource(view, landscape, 3)).toEqual({ x: 330, y: 10, size: 50 });
    for (const q of [0, 1, 2, 3]) {
      expect(toView(toSource(view, landscape, q), landscape, q)).toEqual(view);
    }
  });

  it('crops what the turned view shows: cropping then turning equals turning then cropping', () => {
    const source = { width: 7, height: 5 };
    const photo = grid(source);
    for (const q of [0, 1, 2, 3]) {
      const view = turned(photo, q);
      expect(turnedSize(source, q)).toEqual({ width: view[0]!.length, height: view.length });
      for (const square of [
        { x: 0, y: 0, size: 2 },
        { x: 1, y: 2, size: 3 },
        { x: view[0]!.length - 4, y: view.length - 4, size: 4 },
      ]) {
        const crop = avatarCrop({ ...toSource(square, source, q), quarterTurns: q }, source);
        expect(turned(cut(photo, crop), crop.quarter_turns), `q=${q}`).toEqual(cut(view, square));
      }
    }
  });

  it('starts with the largest centred square, upright', () => {
    expect(fullCrop(landscape)).toEqual({ x: 50, y: 0, size: 300, quarterTurns: 0 });
    expect(fullCrop({ width: 300, height: 500 })).toEqual({ x: 0, y: 100, size: 300, quarterTurns: 0 });
    expect(zoomOf(fullCrop(landscape), landscape)).toBe(1);
  });

  it('zooms from the shorter side down to an eighth of it or 64 pixels', () => {
    expect(frameLimits({ width: 4000, height: 3000 })).toEqual({ largest: 3000, smallest: 375 });
    expect(maxZoom({ width: 4000, height: 3000 })).toBe(8);
    expect(frameLimits({ width: 400, height: 300 })).toEqual({ largest: 300, smallest: 64 });
    // A photo smaller than the smallest frame cannot be zoomed at all.
    expect(maxZoom({ width: 50, height: 40 })).toBe(1);

    const start = fullCrop(landscape);
    const closer = zoomTo(start, landscape, 2);
    expect(closer).toEqual({ x: 125, y: 75, size: 150, quarterTurns: 0 });
    expect(zoomTo(start, landscape, 100).size).toBe(64);
    expect(zoomTo(closer, landscape, 0.1)).toEqual(start);
  });

  it('keeps the frame inside the photo when zooming out near an edge', () => {
    const corner: Crop = { x: 0, y: 0, size: 100, quarterTurns: 0 };
    expect(zoomTo(corner, landscape, 1)).toEqual({ x: 0, y: 0, size: 300, quarterTurns: 0 });
    expect(clampCrop({ x: 390, y: -5, size: 500, quarterTurns: 5 }, landscape)).toEqual({
      x: 100,
      y: 0,
      size: 300,
      quarterTurns: 1,
    });
  });

  it('pans across the turned view and stops at the edges', () => {
    const start = zoomTo(fullCrop(landscape), landscape, 2);
    expect(pan(start, landscape, 10, 0)).toMatchObject({ x: 135, y: 75 });
    expect(pan(start, landscape, -1000, -1000)).toMatchObject({ x: 0, y: 0 });
    expect(pan(start, landscape, 1000, 1000)).toMatchObject({ x: 250, y: 150 });

    // Turned a quarter clockwise, moving right in the view moves up in the source.
    const sideways = turn(start, 1);
    expect(pan(sideways, landscape, 10, 0)).toMatchObject({ x: 125, y: 65 });
    expect(pan(sideways, landscape, 0, 10)).toMatchObject({ x: 135, y: 75 });
    expect(pan(sideways, landscape, 1000, 0)).toMatchObject({ x: 125, y: 0 });
  });

  it('turns both ways without moving the frame off its part of the photo', () => {
    const crop: Crop = { x: 30, y: 40, size: 100, quarterTurns: 0 };
    expect(turn(crop, 1)).toEqual({ ...crop, quarterTurns: 1 });
    expect(turn(crop, -1)).toEqual({ ...crop, quarterTurns: 3 });
    expect(turn(turn(crop, -1), 1)).toEqual(crop);
    expect(turn(turn(turn(turn(crop, 1), 1), 1), 1)).toEqual(crop);
  });

  it('sends whole pixels, at least one, inside the photo', () => {
    expect(avatarCrop({ x: 99.6, y: 0.4, size: 300.4, quarterTurns: 2 }, landscape)).toEqual({
      x: 100,
      y: 0,
      size: 300,
      quarter_turns: 2,
    });
    expect(avatarCrop({ x: 0, y: 0, size: 0.2, quarterTurns: -1 }, landscape)).toEqual({
      x: 0,
      y: 0,
      size: 1,
      quarter_turns: 3,
    });
    const crop = avatarCrop({ x: 1e9, y: 1e9, size: 1e9, quarterTurns: 0 }, { width: 3, height: 2 });
    expect(crop).toEqual({ x: 1, y: 0, size: 2, quarter_turns: 0 });
  });

  it('places the photo so the frame fills the box', () => {
    const crop: Crop = { x: 50, y: 0, size: 300, quarterTurns: 0 };
    expect(placement(crop, landscape, 150, 10)).toEqual({ left: -15, top: 10, width: 200, height: 150, degrees: 0 });
    // Turned: the image is drawn unturned about the same centre, then turned.
    const sideways = placement({ ...crop, quarterTurns: 1 }, landscape, 150);
    expect(sideways.degrees).toBe(90);
    // The turned photo is 150 × 200 on screen; the frame starts 50 source pixels (25 on
    // screen) below its top.
    expect([sideways.left + sideways.width / 2, sideways.top + sideways.height / 2]).toEqual([75, 75]);
    expect([sideways.width, sideways.height]).toEqual([200, 150]);
    expect(sideways.top + sideways.height / 2 - sideways.width / 2).toBe(-25);
  });
});
