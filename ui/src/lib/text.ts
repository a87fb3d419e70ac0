// Counting text as core does, so a counter or a "too long" on screen says what core will.

/** White space as core's `str::trim` knows it: the Unicode White_Space property. */
const LEADING = /^\p{White_Space}+/u;
const TRAILING = /\p{White_Space}+$/u;

/**
 * Characters as core counts them: code points (not UTF-16 units, so an emoji is one) of
 * the text without its surrounding white space. Core trims notes on both sides
 * (`crates/core/src/teams.rs` `clean_note`, `crates/core/src/customers.rs` `clean_text`);
 * a signature only at its end (`crates/core/src/validation.rs` `signature`), which
 * `trim: 'end'` follows.
 */
export function charCount(text: string, trim: 'both' | 'end' = 'both'): number {
  const trailing = text.replace(TRAILING, '');
  return [...(trim === 'both' ? trailing.replace(LEADING, '') : trailing)].length;
}
