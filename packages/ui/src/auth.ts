// The API key of a server with authentication on: asked for once, kept for the browser session
// (sessionStorage: gone when the tab closes, never written to disk by the page) and sent as
// `Authorization: Bearer <key>` on every API call. A 401 from any call asks for a key again.

const STORAGE_KEY = 'hotpath.apiKey';

type Listener = () => void;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // storage disabled by the browser: the key lives only as long as the page
  }
}

let memoryKey = '';

export function getApiKey(): string {
  return storage()?.getItem(STORAGE_KEY) ?? memoryKey;
}

export function setApiKey(key: string): void {
  memoryKey = key;
  storage()?.setItem(STORAGE_KEY, key);
}

export function clearApiKey(): void {
  memoryKey = '';
  storage()?.removeItem(STORAGE_KEY);
}

/** Headers that carry the key, if there is one. */
export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key === '' ? {} : { Authorization: `Bearer ${key}` };
}

/** Called by the API client on a 401: the key is missing, wrong or revoked. */
export function reportUnauthenticated(): void {
  for (const l of listeners) l();
}

/** Subscribes to "a key is needed"; returns the unsubscribe function. */
export function onUnauthenticated(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
