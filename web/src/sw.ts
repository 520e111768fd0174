// Confab's service worker (built to dist/sw.js, served at the site root so that its scope is the
// whole app): the app shell from the cache when the network is down, and Web Push notifications
// (docs/web-push.md). Nothing here may throw out of an event handler: a bad push is ignored.
import { conversationOf, conversationUrl, notificationFor, parsePush, PushPayload, tagFor, toClose } from './lib/push_payload';

// Set by build.mjs: the cache's name follows the hash of the app's files, so a new build replaces it.
declare const __SW_VERSION__: string;
declare const __SW_SHELL__: string[];

// The few service-worker types used here (the "webworker" lib clashes with "dom").
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface PushEvent extends ExtendableEvent {
  data: { text(): string } | null;
}
interface ShownNotification {
  tag: string;
  data: unknown;
  close(): void;
}
interface NotificationEvent extends ExtendableEvent {
  notification: ShownNotification;
}
interface WindowClient {
  url: string;
  focused: boolean;
  visibilityState: DocumentVisibilityState;
  focus(): Promise<WindowClient>;
  postMessage(m: unknown): void;
}
interface Worker {
  location: Location;
  navigator: Navigator & { setAppBadge?: (n?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  registration: {
    showNotification(title: string, options: NotificationOptions & { renotify?: boolean }): Promise<void>;
    getNotifications(filter?: { tag?: string }): Promise<ShownNotification[]>;
  };
  clients: {
    matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, fn: (e: never) => void): void;
}
const sw = self as unknown as Worker;

const CACHE = `confab-${__SW_VERSION__}`;
const SHELL = __SW_SHELL__;

sw.addEventListener('install', (e: ExtendableEvent) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => sw.skipWaiting()));
});

sw.addEventListener('activate', (e: ExtendableEvent) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('confab-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (e: FetchEvent) => {
  const url = new URL(e.request.url);
  // The API and the WebSocket always go to the network.
  if (e.request.method !== 'GET' || url.origin !== sw.location.origin || url.pathname.startsWith('/v1/')) return;
  if (e.request.mode === 'navigate') {
    // The page: fresh when the server answers, the cached one when it does not.
    e.respondWith(fetch(e.request).catch(() => caches.open(CACHE).then((c) => c.match('/')).then((r) => r || Response.error())));
    return;
  }
  // Assets are content-hashed: the cached copy is the right one. The chunks the app imports only
  // when needed (import(), as the sequence diagram's drawing code) are not in the shell: they come
  // from the network, as anything else not cached.
  e.respondWith(caches.open(CACHE).then((c) => c.match(e.request)).then((r) => r || fetch(e.request)));
});

// ------------------------------------------------------------------ push

sw.addEventListener('push', (e: PushEvent) => {
  let text: string | null = null;
  try {
    text = e.data ? e.data.text() : null;
  } catch {
    /* undecodable: ignored */
  }
  const p = parsePush(text);
  if (!p) return;
  e.waitUntil(onPush(p).catch((err) => console.warn('push not handled:', err)));
});

async function onPush(p: PushPayload): Promise<void> {
  if (p.type === 'clear') {
    const shown = await sw.registration.getNotifications({ tag: tagFor(p.conv) });
    for (const n of toClose(shown, p)) n.close();
  } else if (!(await appInFront())) {
    const { title, options } = notificationFor(p);
    await sw.registration.showNotification(title, options);
  }
  await setBadge(p.unread);
}

/** A window of the app is focused and shown: it shows the message live, no notification. */
async function appInFront(): Promise<boolean> {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  return windows.some((w) => w.focused && w.visibilityState === 'visible');
}

async function setBadge(unread: number): Promise<void> {
  const nav = sw.navigator;
  try {
    if (unread > 0) await nav.setAppBadge?.(unread);
    else await nav.clearAppBadge?.();
  } catch {
    /* badges are optional (not installed as an app, or not supported) */
  }
}

sw.addEventListener('notificationclick', (e: NotificationEvent) => {
  e.notification.close();
  const conv = conversationOf(e.notification.data);
  e.waitUntil(openConversation(conv).catch((err) => console.warn('notification click:', err)));
});

/** Focuses a window of the app and tells it to open conv, or opens one at conv's deep link. */
async function openConversation(conv: number | null): Promise<void> {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const w = windows.find((x) => x.focused) ?? windows.find((x) => x.visibilityState === 'visible') ?? windows[0];
  if (w) {
    const focused = await w.focus().catch(() => w);
    if (conv !== null) (focused ?? w).postMessage({ type: 'open', conv });
    return;
  }
  await sw.clients.openWindow(conv !== null ? conversationUrl(conv) : '/');
}

// The push service replaced or dropped the subscription. The worker holds no session, so it cannot
// register a new one with the server: it asks the app's open windows to (PushController.refresh).
sw.addEventListener('pushsubscriptionchange', (e: ExtendableEvent) => {
  e.waitUntil(
    sw.clients
      .matchAll({ type: 'window', includeUncontrolled: true })
      .then((windows) => windows.forEach((w) => w.postMessage({ type: 'resubscribe' })))
      .catch(() => {}),
  );
});
