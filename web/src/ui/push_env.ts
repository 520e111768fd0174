// The browser's side of PushController (lib/push.ts): the service worker's push manager, the
// Notification permission, and the HTTP API with this session's token.
import { PushController, PushEnv, PushManagerLike } from '../lib/push';
import { ChatClient } from '../lib/client';
import { conversationFromHash, parseWorkerMessage } from '../lib/push_payload';

export function browserPushEnv(c: ChatClient): PushEnv {
  const supported =
    typeof window !== 'undefined' &&
    window.isSecureContext &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window;
  return {
    supported,
    permission: () => Notification.permission,
    requestPermission: () => Notification.requestPermission(),
    pushManager: async () => {
      await navigator.serviceWorker.register('/sw.js');
      const reg = await navigator.serviceWorker.ready;
      return reg.pushManager as unknown as PushManagerLike;
    },
    call: (op, body) => c.callOp(op, body),
  };
}

/** The service worker's messages to this window: open a conversation (a notification was
 *  clicked), register the push subscription again (it changed). */
export function listenToWorker(c: () => ChatClient | null, push: () => PushController | null): void {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (e) => {
    const m = parseWorkerMessage(e.data);
    if (m?.type === 'open') void c()?.open(m.conv);
    else if (m?.type === 'resubscribe') void push()?.refresh();
  });
}

/** A deep link such as /#conv=12 (a notification opened a new window): opens it once, then clears the hash. */
export function openFromHash(c: ChatClient): void {
  const conv = conversationFromHash(location.hash);
  if (conv === null) return;
  history.replaceState(null, '', location.pathname + location.search);
  if (c.convs.get(conv)) {
    void c.open(conv);
    return;
  }
  // Not listed yet (the list is loading): opened once the server's list has it.
  const stop = c.subscribe(() => {
    if (!c.loaded || c.fromCache) return;
    stop();
    if (c.convs.get(conv)) void c.open(conv);
  });
}
