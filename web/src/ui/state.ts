// Glue between the plain client modules and Preact: one signal that changes whenever the client
// does, the session persisted in localStorage, and the browser's network events.
import { effect, signal } from '@preact/signals';
import { HttpApi } from '../lib/api';
import { ChatClient } from '../lib/client';
import { browserKV, readJSON } from '../lib/kv';
import { pendingLogouts, retryPendingLogouts } from '../lib/signout';
import { SocketLike } from '../lib/sync';
import { Session } from '../lib/types';
import { PushController } from '../lib/push';
import { browserPushEnv, listenToWorker, openFromHash } from './push_env';

export const kv = browserKV();
export const http = new HttpApi('', (url, init) => fetch(url, init));

export const version = signal(0);
export const client = signal<ChatClient | null>(null);
/** Shown on the sign-in screen, e.g. after the device was revoked elsewhere. */
export const signInNotice = signal('');
/** A short message about something the person tried that is not possible (e.g. dropping a file). */
export const shellNotice = signal('');
/** The Administration view (server_admin_ui.tsx) is shown in place of the open conversation. */
export const adminOpen = signal(false);
/** Web Push on this device (lib/push.ts), for the signed-in session. */
export const push = signal<PushController | null>(null);

const SESSION_KEY = 'confab.session';
/** An idle connection is probed this often; a dead one is noticed within about twice this. */
const PING_EVERY_MS = 3000;
/** A connection attempt with no hello reply after this long is retried (a cut network can hold it). */
const CONNECT_TIMEOUT_MS = 10000;

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
    // The open conversation is seen (and read) only while the page is shown and not covered.
    visible: () => document.visibilityState === 'visible' && !adminOpen.value,
    pingEveryMs: PING_EVERY_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  c.subscribe(() => {
    version.value++;
    if (c.status === 'revoked') endSession('This device was signed out. Sign in again to continue.');
  });
  client.value = c;
  c.start();
  const p = new PushController(browserPushEnv(c), () => version.value++);
  push.value = p;
  void p.start();
  openFromHash(c);
}

export function endSession(notice = ''): void {
  // Signed out (here or elsewhere): the server dropped this device's push target; the browser's
  // subscription goes too.
  void push.value?.forget();
  push.value = null;
  client.value?.stop();
  client.value = null;
  kv.remove(SESSION_KEY);
  signInNotice.value = notice;
  version.value++;
}

// Sign-outs made while the server could not be reached are sent when it can be again.
let logoutTimer: ReturnType<typeof setTimeout> | null = null;
export function flushPendingLogouts(): void {
  if (logoutTimer !== null) clearTimeout(logoutTimer);
  logoutTimer = null;
  if (pendingLogouts(kv).length === 0) return;
  void retryPendingLogouts(kv, http).then((left) => {
    if (left > 0 && logoutTimer === null) logoutTimer = setTimeout(flushPendingLogouts, 5000);
  });
}
flushPendingLogouts();

window.addEventListener('online', () => {
  client.value?.reconnectNow();
  flushPendingLogouts();
});
window.addEventListener('offline', () => client.value?.networkLost());
window.addEventListener('hashchange', () => {
  if (client.value) openFromHash(client.value);
});
// A clicked notification opens its conversation; a changed subscription is registered again.
listenToWorker(
  () => {
    adminOpen.value = false;
    return client.value;
  },
  () => push.value,
);
// Back from the Administration view: what arrived meanwhile in the open conversation is seen now.
effect(() => {
  if (!adminOpen.value) client.peek()?.scheduleRead();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') client.value?.scheduleRead();
});
// A file dropped anywhere else must not replace the app with the file.
for (const type of ['dragover', 'drop'] as const)
  window.addEventListener(type, (e) => {
    if (!e.dataTransfer?.types.includes('Files') || e.defaultPrevented) return;
    e.preventDefault();
    if (type === 'drop') shellNotice.value = 'Attachments are not supported yet: only text can be sent.';
  });
