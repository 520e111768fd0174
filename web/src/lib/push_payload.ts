// What the service worker (src/sw.ts) does with a push, as pure functions: reading the payload the
// server sends (docs/push.md, docs/web-push.md), the notification it shows, which shown ones a
// "clear" closes, and the deep link a click opens.

export interface PushPayload {
  type: 'message' | 'clear';
  conv: number;
  seq: number;
  unread: number;
  /** Only when the operator turned previews on. */
  sender?: string;
  preview?: string;
}

/** The payload, or null for anything that is not one (not JSON, wrong types, unknown type). */
export function parsePush(text: string | null | undefined): PushPayload | null {
  if (typeof text !== 'string' || text === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (o.type !== 'message' && o.type !== 'clear') return null;
  const conv = o.conversation_id;
  const seq = o.seq;
  const unread = o.unread ?? 0;
  if (!isCount(conv) || conv <= 0 || !isCount(seq) || !isCount(unread)) return null;
  const p: PushPayload = { type: o.type, conv, seq, unread };
  if (typeof o.sender === 'string' && o.sender !== '') p.sender = o.sender;
  if (typeof o.preview === 'string' && o.preview !== '') p.preview = o.preview;
  return p;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Notifications of one conversation share a tag: a newer one replaces the older. */
export function tagFor(conv: number): string {
  return `c${conv}`;
}

export interface NotificationData {
  conv: number;
  seq: number;
}

/** The title and options of a message's notification: without previews, a generic text. */
export function notificationFor(p: PushPayload): {
  title: string;
  options: { body: string; tag: string; renotify: boolean; data: NotificationData };
} {
  return {
    title: p.sender ?? 'New message',
    options: {
      body: p.preview ?? 'You have a new message',
      tag: tagFor(p.conv),
      renotify: true,
      data: { conv: p.conv, seq: p.seq },
    },
  };
}

/** The notifications a "clear" closes: its conversation's, for messages up to its seq. */
export function toClose<N extends { tag: string; data?: unknown }>(shown: N[], p: PushPayload): N[] {
  const tag = tagFor(p.conv);
  return shown.filter((n) => {
    if (n.tag !== tag) return false;
    const seq = (n.data as Partial<NotificationData> | null | undefined)?.seq;
    return typeof seq !== 'number' || seq <= p.seq;
  });
}

/** The app's deep link to a conversation (read by conversationFromHash). */
export function conversationUrl(conv: number): string {
  return `/#conv=${conv}`;
}

/** The conversation a location hash such as "#conv=12" names, or null. */
export function conversationFromHash(hash: string): number | null {
  const m = /^#conv=(\d{1,15})$/.exec(hash);
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 ? n : null;
}

/** The conversation a notification's data names, or null. */
export function conversationOf(data: unknown): number | null {
  const conv = (data as Partial<NotificationData> | null | undefined)?.conv;
  return typeof conv === 'number' && Number.isSafeInteger(conv) && conv > 0 ? conv : null;
}

/** A message to the app's windows from the service worker. */
export type WorkerMessage = { type: 'open'; conv: number } | { type: 'resubscribe' };

export function parseWorkerMessage(data: unknown): WorkerMessage | null {
  const o = data as { type?: unknown; conv?: unknown } | null;
  if (!o || typeof o !== 'object') return null;
  if (o.type === 'resubscribe') return { type: 'resubscribe' };
  if (o.type === 'open') {
    const conv = conversationOf(o);
    return conv === null ? null : { type: 'open', conv };
  }
  return null;
}
