// Photos and initials for avatars. Photos come through the backend (the server wants the
// session's token), each once per backend, shared by every avatar on screen.

import type { Backend } from './backend';
import type { InitialsAvatar } from './generated/InitialsAvatar';

/** Loads by backend, then by key. */
type Cache<T> = WeakMap<Backend, Record<string, Promise<T>>>;

let photos: Cache<string> = new WeakMap();
const initials: Cache<InitialsAvatar> = new WeakMap();
let changes = $state(0);

function cached<T>(cache: Cache<T>, backend: Backend, key: string, load: () => Promise<T>): Promise<T> {
  let entries = cache.get(backend);
  if (!entries) {
    entries = Object.create(null) as Record<string, Promise<T>>;
    cache.set(backend, entries);
  }
  const found = entries[key];
  if (found) return found;
  const loading = load();
  entries[key] = loading;
  // A failure is not kept: the next avatar to ask tries again.
  loading.catch(() => {
    if (entries[key] === loading) delete entries[key];
  });
  return loading;
}

/** A stored photo as a `data:` URL. */
export function photo(backend: Backend, url: string): Promise<string> {
  return cached(photos, backend, url, () => backend.avatarImage(url));
}

export function initialsFor(backend: Backend, id: string, displayName: string): Promise<InitialsAvatar> {
  return cached(initials, backend, `${id}\n${displayName}`, () => backend.initialsAvatar(id, displayName));
}

/** The agent's photo changed: every avatar fetches it again, even from an unchanged address. */
export function photoChanged(): void {
  forgetPhotos();
  changes += 1;
}

/** Signed out: the next session fetches its photos afresh. */
export function forgetPhotos(): void {
  photos = new WeakMap();
}

/** Read in an effect to run it again when a photo changed. */
export function photoChanges(): number {
  return changes;
}
