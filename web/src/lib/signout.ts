// Signing out while the server cannot be reached: the browser forgets the session at once, and
// the token is kept aside (only it, in localStorage) until a `logout` with it reaches the server.
import { HttpApi } from './api';
import { KV, readJSON } from './kv';
import { ApiError } from './types';

const KEY = 'confab.pendingLogout';

export function addPendingLogout(kv: KV, token: string): void {
  const list = pendingLogouts(kv);
  if (!list.includes(token)) list.push(token);
  kv.set(KEY, JSON.stringify(list.slice(-20)));
}

export function pendingLogouts(kv: KV): string[] {
  const v = readJSON<unknown>(kv, KEY, []);
  return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
}

/** Sends `logout` for every token kept aside. A token is dropped once the server answered (ok,
 *  or unauthenticated: already revoked); kept when it could not be reached. Resolves to how many
 *  remain. */
export async function retryPendingLogouts(kv: KV, http: HttpApi): Promise<number> {
  const tried = pendingLogouts(kv);
  const left: string[] = [];
  for (const token of tried) {
    try {
      await http.call('logout', {}, token);
    } catch (e) {
      if (e instanceof ApiError && e.retryable) left.push(token);
    }
  }
  // Tokens added meanwhile (another sign-out) stay.
  const now = pendingLogouts(kv).filter((t) => !tried.includes(t) || left.includes(t));
  if (now.length) kv.set(KEY, JSON.stringify(now));
  else kv.remove(KEY);
  return now.length;
}
