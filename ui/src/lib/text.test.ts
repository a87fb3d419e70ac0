import { describe, expect, it } from 'vitest';
import { charCount } from './text';

describe('charCount', () => {
  it('counts code points, so an emoji or an accent written as one character is one', () => {
    expect(charCount('abc')).toBe(3);
    expect('😀'.length).toBe(2);
    expect(charCount('😀')).toBe(1);
    expect(charCount('é')).toBe(1);
    expect(charCount('')).toBe(0);
  });

  it('leaves out the white space around the text, as core trims it', () => {
    expect(charCount('  two\nlines \n\t')).toBe(9);
    expect(charCount('\u00a0\u2003note\u3000')).toBe(4);
    expect(charCount(' \n ')).toBe(0);
  });

  it('keeps white space inside and, for a text core trims only at its end, in front', () => {
    expect(charCount('a  b')).toBe(4);
    expect(charCount('  Dana\n', 'end')).toBe(6);
    expect(charCount('  Dana\n')).toBe(4);
  });

  it('trims only what core counts as white space', () => {
    // U+FEFF is not white space to core, though JavaScript's trim drops it.
    expect(charCount('\ufeffx')).toBe(2);
  });
});
