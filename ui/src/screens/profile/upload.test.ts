import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../../lib/i18n/index.svelte';
import { avatarPolicy } from '../../test/fake-backend';
import { acceptFilter, fileType, formatBytes, limitsText, photoErrorMessage, refusal, typeList } from './upload';

const file = (name: string, type: string, size = 10) => {
  const made = new File(['x'], name, { type });
  Object.defineProperty(made, 'size', { value: size });
  return made;
};

describe('photo limits', () => {
  afterEach(() => setLanguage('en'));

  it('names formats and sizes the way people know them', () => {
    expect(typeList(['image/jpeg'])).toBe('JPEG');
    expect(typeList(['image/png', 'image/x-icon'])).toBe('PNG or X-ICON');
    expect(formatBytes(5_000_000)).toBe('5 MB');
    expect(formatBytes(2_500_000)).toBe('2.5 MB');
    expect(formatBytes(300_000)).toBe('300 KB');
    expect(formatBytes(12)).toBe('12 bytes');
    expect(limitsText(avatarPolicy)).toBe('JPEG, PNG, GIF or WebP, up to 5 MB.');
    setLanguage('de');
    expect(formatBytes(2_500_000)).toBe('2,5 MB');
    expect(limitsText(avatarPolicy)).toBe('JPEG, PNG, GIF oder WebP, bis 5 MB.');
  });

  it('filters the file dialog by type and file name ending', () => {
    expect(acceptFilter(avatarPolicy).split(',')).toEqual([
      'image/jpeg',
      'image/png',
      'image/gif',
      'image/webp',
      '.jpg',
      '.jpeg',
      '.jpe',
      '.jfif',
      '.png',
      '.gif',
      '.webp',
    ]);
    expect(acceptFilter(null)).toBe('image/*');
  });

  it('tells the type by the name when the system does not', () => {
    expect(fileType(file('a.JPG', ''))).toBe('image/jpeg');
    expect(fileType(file('a', 'image/jpg'))).toBe('image/jpeg');
    expect(fileType(file('a.heic', ''))).toBe('image/heic');
    expect(fileType(file('photo', ''))).toBeNull();
  });

  it('refuses what the server would, and leaves an unknown type to the server', () => {
    expect(refusal(file('a.png', 'image/png', 5_000_000), avatarPolicy)).toBeNull();
    expect(refusal(file('a.png', 'image/png', 5_000_001), avatarPolicy)).toBe(
      'a.png is 5 MB, larger than the server accepts. Choose a photo of up to 5 MB.',
    );
    expect(refusal(file('a.svg', 'image/svg+xml'), avatarPolicy)).toContain('a.svg is not an image the server accepts.');
    expect(refusal(file('photo', ''), avatarPolicy)).toBeNull();
  });

  it('words a refusal without the limits when they are unknown', () => {
    expect(photoErrorMessage({ code: 'payload_too_large', message: 'x', field: 'photo' }, null)).toBe(
      'This photo is larger than the server accepts.',
    );
    expect(photoErrorMessage({ code: 'internal', message: 'boom', field: null }, avatarPolicy)).toBe(
      'Something went wrong. Try again in a moment.',
    );
  });
});
