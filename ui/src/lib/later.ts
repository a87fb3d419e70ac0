// Work the first screen does not need waits until that screen has been drawn: on a cold
// start the web view's one thread lays out and paints the first frame sooner without it.

/** Runs `work` once the next frame has been painted (or soon, where nothing paints). */
export function afterFirstFrame(work: () => void): void {
  if (typeof requestAnimationFrame === 'function') {
    // A frame callback runs before the paint; the timeout after it.
    requestAnimationFrame(() => setTimeout(work, 0));
  } else {
    setTimeout(work, 0);
  }
}
