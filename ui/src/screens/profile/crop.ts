// The crop editor's geometry. The frame is kept as a square in pixels of the photo as it
// is displayed, not turned, so turning the view keeps the same part of the photo in the
// frame; the editor shows the photo turned clockwise by `quarterTurns`. Pure, so it is
// unit-tested against the mapping the Rust side applies.

import type { AvatarCrop } from '../../lib/generated/AvatarCrop';

export interface Size {
  width: number;
  height: number;
}

/** A square: its top-left corner and side. */
export interface Square {
  x: number;
  y: number;
  size: number;
}

/** The editor's state: a square in source pixels (fractional while editing) and the turns. */
export interface Crop extends Square {
  quarterTurns: number;
}

/** How far in the editor zooms: this many times the photo's shorter side… */
export const MAX_ZOOM = 8;
/** …unless that would make the frame smaller than this many source pixels. */
export const SMALLEST_FRAME = 64;

function normalTurns(quarterTurns: number): number {
  return ((Math.round(quarterTurns) % 4) + 4) % 4;
}

function within(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

/** The size of the photo as shown, turned by `quarterTurns`. */
export function turnedSize(source: Size, quarterTurns: number): Size {
  return normalTurns(quarterTurns) % 2 === 1
    ? { width: source.height, height: source.width }
    : { width: source.width, height: source.height };
}

/** A square in the turned view, as a square of the source photo. */
export function toSource(view: Square, source: Size, quarterTurns: number): Square {
  const { x: u, y: v, size: s } = view;
  const { width: w, height: h } = source;
  switch (normalTurns(quarterTurns)) {
    case 1:
      return { x: v, y: h - u - s, size: s };
    case 2:
      return { x: w - u - s, y: h - v - s, size: s };
    case 3:
      return { x: w - v - s, y: u, size: s };
    default:
      return { x: u, y: v, size: s };
  }
}

/** A square of the source photo, as it appears in the view turned by `quarterTurns`. */
export function toView(square: Square, source: Size, quarterTurns: number): Square {
  const { x, y, size: s } = square;
  const { width: w, height: h } = source;
  switch (normalTurns(quarterTurns)) {
    case 1:
      return { x: h - y - s, y: x, size: s };
    case 2:
      return { x: w - x - s, y: h - y - s, size: s };
    case 3:
      return { x: y, y: w - x - s, size: s };
    default:
      return { x, y, size: s };
  }
}

/** The frame's side at the least zoom (the shorter side) and at the most. */
export function frameLimits(source: Size): { largest: number; smallest: number } {
  const largest = Math.min(source.width, source.height);
  return { largest, smallest: Math.max(largest / MAX_ZOOM, Math.min(largest, SMALLEST_FRAME)) };
}

export function maxZoom(source: Size): number {
  const { largest, smallest } = frameLimits(source);
  return largest / smallest;
}

/** 1 when the frame covers the shorter side, more as it closes in. */
export function zoomOf(crop: Crop, source: Size): number {
  return frameLimits(source).largest / crop.size;
}

/** The frame's size within the limits and the frame inside the photo. */
export function clampCrop(crop: Crop, source: Size): Crop {
  const { largest, smallest } = frameLimits(source);
  const size = within(crop.size, smallest, largest);
  return {
    x: within(crop.x, 0, source.width - size),
    y: within(crop.y, 0, source.height - size),
    size,
    quarterTurns: normalTurns(crop.quarterTurns),
  };
}

/** Where the editor starts and what Reset goes back to: the largest square, centred, upright. */
export function fullCrop(source: Size): Crop {
  const size = frameLimits(source).largest;
  return { x: (source.width - size) / 2, y: (source.height - size) / 2, size, quarterTurns: 0 };
}

/** Zooms to `zoom` (1 to `maxZoom`) around the frame's centre. */
export function zoomTo(crop: Crop, source: Size, zoom: number): Crop {
  const { largest } = frameLimits(source);
  const size = within(largest / zoom, frameLimits(source).smallest, largest);
  const half = (crop.size - size) / 2;
  return clampCrop({ ...crop, x: crop.x + half, y: crop.y + half, size }, source);
}

/** Moves the frame by (dx, dy) source pixels across the turned view; it stops at the edges. */
export function pan(crop: Crop, source: Size, dx: number, dy: number): Crop {
  const view = toView(crop, source, crop.quarterTurns);
  const turned = turnedSize(source, crop.quarterTurns);
  const moved = {
    x: within(view.x + dx, 0, turned.width - view.size),
    y: within(view.y + dy, 0, turned.height - view.size),
    size: view.size,
  };
  return clampCrop({ ...toSource(moved, source, crop.quarterTurns), quarterTurns: crop.quarterTurns }, source);
}

/** Turns the view a quarter clockwise (1) or anticlockwise (-1); the frame keeps its part of the photo. */
export function turn(crop: Crop, by: 1 | -1): Crop {
  return { ...crop, quarterTurns: normalTurns(crop.quarterTurns + by) };
}

/** The crop to send: whole pixels, at least one, inside the photo. */
export function avatarCrop(crop: Crop, source: Size): AvatarCrop {
  const size = within(Math.round(crop.size), 1, Math.max(1, Math.min(source.width, source.height)));
  return {
    x: within(Math.round(crop.x), 0, source.width - size),
    y: within(Math.round(crop.y), 0, source.height - size),
    size,
    quarter_turns: normalTurns(crop.quarterTurns),
  };
}

/** Where to draw the photo (unturned, then turned about its centre) so that the frame fills a
 * box `frame` CSS pixels wide whose top-left corner is at (`offset`, `offset`). */
export function placement(
  crop: Crop,
  source: Size,
  frame: number,
  offset = 0,
): { left: number; top: number; width: number; height: number; degrees: number } {
  const scale = frame / crop.size;
  const view = toView(crop, source, crop.quarterTurns);
  const turned = turnedSize(source, crop.quarterTurns);
  const centreX = offset + (turned.width / 2 - view.x) * scale;
  const centreY = offset + (turned.height / 2 - view.y) * scale;
  const width = source.width * scale;
  const height = source.height * scale;
  return {
    left: centreX - width / 2,
    top: centreY - height / 2,
    width,
    height,
    degrees: normalTurns(crop.quarterTurns) * 90,
  };
}
