// Glue between the plain client modules and Preact: one signal that changes whenever the client
// does, and the session persisted in localStorage.
import { signal } from '@preact/signals';
import { HttpApi } from '../lib/api';
import { ChatClient } from '../lib/client';
import { browserKV, readJSON } from '../lib/kv';
import { SocketLike } from '../lib/sync';
import { Session } from '../lib/types';

export const kv = browserKV();
export const http = new HttpApi('', (url, init) => fetch(url, init));

export const version = signal(0);
export const client = signal<ChatClient | null>(null);
/** Shown on the sign-in screen, e.g. after the device was revoked elsewhere. */
export const signInNotice = signal('');

const SESSION_KEY = 'confab.session';

export function savedSession(): Session | null {
  const s = readJSON<Session | null>(kv, SESSION_KEY, null);
  return s && typeof s.token === 'string' ? s : null;
}

export function startClient(s: Session): void {
  kv.set(SESSION_KEY, JSON.stringify(s));
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;
  const c = new ChatClient(s, {
    http,
    wsUrl,
    kv,
    makeSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    visible: () => document.visibilityState === 'visible',
  });
  c.subscribe(() => {
    version.value++;
    if (c.status === 'revoked') endSession('This device was signed out. Sign in again to continue.');
  });
  client.value = c;
  c.start();
}

export function endSession(notice = ''): void {
  client.value?.stop();
  client.value = null;
  kv.remove(SESSION_KEY);
  signInNotice.value = notice;
}

window.addEventListener('online', () => client.value?.reconnectNow());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') client.value?.scheduleRead();
});
