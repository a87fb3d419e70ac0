// The Photo section's rules for a picked file: the server's limits in words, and
// the files refused before anything is sent. The server checks every photo again.

import type { AvatarPolicy } from '../../lib/generated/AvatarPolicy';
import type { IpcError } from '../../lib/generated/IpcError';
import { en } from '../../lib/i18n/en';
import { errorMessage, language, t, type MessageKey } from '../../lib/i18n/index.svelte';

/** Names people know image formats by, and the file name endings of each. */
const FORMATS: Record<string, { name: string; endings: string[] }> = {
  'image/jpeg': { name: 'JPEG', endings: ['jpg', 'jpeg', 'jpe', 'jfif'] },
  'image/png': { name: 'PNG', endings: ['png'] },
  'image/gif': { name: 'GIF', endings: ['gif'] },
  'image/webp': { name: 'WebP', endings: ['webp'] },
  'image/avif': { name: 'AVIF', endings: ['avif'] },
  'image/bmp': { name: 'BMP', endings: ['bmp'] },
  'image/tiff': { name: 'TIFF', endings: ['tif', 'tiff'] },
  'image/heic': { name: 'HEIC', endings: ['heic'] },
  'image/heif': { name: 'HEIF', endings: ['heif'] },
  'image/svg+xml': { name: 'SVG', endings: ['svg'] },
};

function formatName(mime: string): string {
  return FORMATS[mime]?.name ?? mime.replace(/^image\//, '').toUpperCase();
}

/** `JPEG, PNG, GIF or WebP`. */
export function typeList(types: string[]): string {
  const names = types.map(formatName);
  if (names.length <= 1) return names.join('');
  return t('photo.or', { list: names.slice(0, -1).join(', '), last: names.at(-1)! });
}

/** A size in bytes the way file managers show it (1 MB = 1,000,000 bytes). */
export function formatBytes(bytes: number): string {
  const number = (value: number) => new Intl.NumberFormat(language(), { maximumFractionDigits: 1 }).format(value);
  if (bytes >= 1_000_000) return t('photo.mb', { size: number(bytes / 1_000_000) });
  if (bytes >= 1_000) return t('photo.kb', { size: number(bytes / 1_000) });
  return t('photo.bytes', { size: number(bytes) });
}

/** `JPEG, PNG, GIF or WebP, up to 5 MB.` */
export function limitsText(policy: AvatarPolicy): string {
  return t('photo.limits', { types: typeList(policy.accepted_types), size: formatBytes(policy.max_bytes) });
}

/** The file chooser's filter: the accepted types and their file name endings. */
export function acceptFilter(policy: AvatarPolicy | null): string {
  if (!policy) return 'image/*';
  const endings = policy.accepted_types.flatMap((mime) => FORMATS[mime]?.endings ?? []).map((ending) => `.${ending}`);
  return [...policy.accepted_types, ...endings].join(',');
}

/** The file's type as the system names it, or by its name's ending; null when neither says. */
export function fileType(file: File): string | null {
  const type = file.type.toLowerCase();
  if (type === 'image/jpg' || type === 'image/pjpeg') return 'image/jpeg';
  if (type) return type;
  const ending = file.name.toLowerCase().split('.').at(-1) ?? '';
  return Object.entries(FORMATS).find(([, format]) => format.endings.includes(ending))?.[0] ?? null;
}

/** Why a picked file is refused before it is sent, worded for the agent; null when it may go. A
 * file of unknown type goes: the server tells by its content. */
export function refusal(file: File, policy: AvatarPolicy): string | null {
  const type = fileType(file);
  if (type !== null && !policy.accepted_types.includes(type)) {
    return `${t('photo.refused.type', { name: file.name })} ${accepts('types', policy)}`;
  }
  if (file.size > policy.max_bytes) {
    return `${t('photo.refused.size', { name: file.name, size: formatBytes(file.size) })} ${accepts('size', policy)}`;
  }
  return null;
}

function accepts(what: 'size' | 'types' | 'another' | 'pixels', policy: AvatarPolicy): string {
  return t(`photo.accepts.${what}`, {
    size: formatBytes(policy.max_bytes),
    types: typeList(policy.accepted_types),
    side: new Intl.NumberFormat(language()).format(policy.max_side),
    megapixels: new Intl.NumberFormat(language(), { maximumFractionDigits: 1 }).format(policy.max_pixels / 1_000_000),
  });
}

/** What the server accepts, for each refusal of a photo that the agent can act on. */
const ACCEPTED: Partial<Record<IpcError['code'], 'size' | 'types' | 'another' | 'pixels'>> = {
  payload_too_large: 'size',
  unsupported_image: 'types',
  invalid_image: 'another',
  image_too_large: 'pixels',
};

/** A failed photo command, worded for the agent: what is wrong and, if known, what is accepted. */
export function photoErrorMessage(error: IpcError, policy: AvatarPolicy | null): string {
  const key = `photo.error.${error.code}`;
  if (!(key in en)) return errorMessage(error);
  const what = t(key as MessageKey);
  const accepted = ACCEPTED[error.code];
  return accepted && policy ? `${what} ${accepts(accepted, policy)}` : what;
}

/** Reads a picked file, telling how far it got (0 to 1) as it goes. */
export function readFile(file: File, onprogress: (fraction: number) => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onprogress(event.loaded / event.total);
    };
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsArrayBuffer(file);
  });
}
