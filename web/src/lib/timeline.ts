// One conversation's events as the view shows them: pages from `history` merged with live
// events, deduplicated by seq, always ascending; plus helpers for day separators and the per-
// message delivery state from receipts.
import { applied, changeTarget, hiddenInTimeline, isChange } from './changes';
import { ChatEvent, ReceiptState } from './types';

export class Timeline {
  private readonly bySeq = new Map<number, ChatEvent>();
  private sorted: ChatEvent[] = [];
  /** Whether older events exist below the oldest one held. */
  hasMoreBefore = true;
  /** Whether the newest page was loaded (so live events can be appended without a gap). */
  loadedLatest = false;

  /** me: the viewer, for the "me" of reactions. */
  constructor(
    readonly conv: number,
    readonly me = 0,
  ) {}

  /** Adds events from `history` (any order, duplicates ignored). Their messages are as they are
   *  now, so the change events among them are not applied again (an older reaction count would
   *  overwrite a newer one). Returns how many were new. */
  add(events: ChatEvent[]): number {
    let added = 0;
    for (const e of events) {
      if (e.conv !== this.conv || this.bySeq.has(e.seq)) continue;
      this.bySeq.set(e.seq, e);
      added++;
    }
    if (added) this.sorted = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return added;
  }

  /** Adds one event from the stream (in order); a change is applied to the message it changes. */
  addLive(ev: ChatEvent): void {
    if (this.add([ev]) && isChange(ev)) this.applyChange(ev);
  }

  /** Applies a change event to the message it changes, if held, without holding the change
   *  itself (for a timeline that has not loaded the latest page: holding it would leave a gap).
   *  Returns whether the message changed. */
  applyChange(ch: ChatEvent): boolean {
    const target = changeTarget(ch);
    const msg = target === undefined ? undefined : this.bySeq.get(target);
    if (!msg) return false;
    const next = applied(msg, ch, this.me);
    if (next === msg) return false;
    this.bySeq.set(next.seq, next);
    this.sorted = this.sorted.map((e) => (e.seq === next.seq ? next : e));
    return true;
  }

  /** Replaces the held message at seq by f(it) (local state such as a thread read by me);
   *  false if not held. */
  update(seq: number, f: (e: ChatEvent) => ChatEvent): boolean {
    const e = this.bySeq.get(seq);
    if (!e) return false;
    const next = f(e);
    this.bySeq.set(seq, next);
    this.sorted = this.sorted.map((x) => (x.seq === seq ? next : x));
    return true;
  }

  /** Applies a `history` page fetched with `before` (or with no bound). */
  addOlderPage(events: ChatEvent[], hasMore: boolean): number {
    const n = this.add(events);
    this.hasMoreBefore = hasMore;
    return n;
  }

  events(): readonly ChatEvent[] {
    return this.sorted;
  }
  get(seq: number): ChatEvent | undefined {
    return this.bySeq.get(seq);
  }
  oldestSeq(): number | undefined {
    return this.sorted[0]?.seq;
  }
  newestSeq(): number {
    return this.sorted.length ? this.sorted[this.sorted.length - 1].seq : 0;
  }
  /** Seqs missing between the oldest and the newest held (should be none). */
  gaps(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.sorted.length; i++)
      for (let s = this.sorted[i - 1].seq + 1; s < this.sorted[i].seq; s++) out.push(s);
    return out;
  }
  /** The message this device sent with client_id, once committed. */
  byClientId(clientId: string, device: number): ChatEvent | undefined {
    return this.sorted.find((e) => e.client_id === clientId && e.device === device);
  }
}

// ---------------------------------------------------------------- paging with `history`

export const HISTORY_PAGE = 50;

export type HistoryCall = (q: { conv: number; before?: number; after?: number; limit: number }) => Promise<{
  events: ChatEvent[];
  has_more: boolean;
}>;

/** The first page of a conversation: the latest one or, when more than a page is unread (seqs
 *  above unreadAfter), the page starting at the first unread, newer pages following on demand. */
export async function firstPage(history: HistoryCall, conv: number, lastSeq: number, unreadAfter?: number, me = 0): Promise<Timeline> {
  const tl = new Timeline(conv, me);
  if (unreadAfter !== undefined && lastSeq - unreadAfter > HISTORY_PAGE) {
    const r = await history({ conv, after: unreadAfter, limit: HISTORY_PAGE });
    tl.add(r.events);
    tl.hasMoreBefore = unreadAfter > 0;
    tl.loadedLatest = !r.has_more;
  } else {
    const r = await history({ conv, limit: HISTORY_PAGE });
    tl.addOlderPage(r.events, r.has_more);
    tl.loadedLatest = true;
  }
  return tl;
}

export type HistoryAroundCall = (q: { conv: number; around: number; limit: number }) => Promise<{
  events: ChatEvent[];
  has_more_before: boolean;
  has_more_after: boolean;
}>;

/** A conversation opened at one message (a search result, a mention): the page around seq, older
 *  and newer pages following on demand as for a timeline opened at its first unread. */
export async function pageAround(history: HistoryAroundCall, conv: number, seq: number, me = 0): Promise<Timeline> {
  const tl = new Timeline(conv, me);
  const r = await history({ conv, around: seq, limit: HISTORY_PAGE });
  tl.add(r.events);
  tl.hasMoreBefore = r.has_more_before;
  tl.loadedLatest = !r.has_more_after;
  return tl;
}

/** Adds the page above the oldest event held. Resolves to how many were added. */
export async function pageOlder(history: HistoryCall, tl: Timeline): Promise<number> {
  const oldest = tl.oldestSeq();
  if (!tl.hasMoreBefore || oldest === undefined) return 0;
  const r = await history({ conv: tl.conv, before: oldest, limit: HISTORY_PAGE });
  return tl.addOlderPage(r.events, r.has_more);
}

/** Adds the pages below the newest event held until the latest is loaded (live events are not
 *  appended before that, so it pages again if the conversation moved on meanwhile; lastSeq reads
 *  its current last seq). Resolves to how many were added. */
export async function pageNewer(history: HistoryCall, tl: Timeline, lastSeq: () => number): Promise<number> {
  let added = 0;
  for (let i = 0; i < 3 && !tl.loadedLatest; i++) {
    const r = await history({ conv: tl.conv, after: tl.newestSeq(), limit: HISTORY_PAGE });
    added += tl.add(r.events);
    if (r.has_more) break;
    if (tl.newestSeq() >= lastSeq()) tl.loadedLatest = true;
  }
  return added;
}

/** Local calendar day key, e.g. "2026-11-28". */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export type Row =
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'unread'; key: string }
  | { kind: 'event'; key: string; ev: ChatEvent; cont: boolean };

/** Consecutive messages from one sender closer than this are grouped (one name, one avatar). */
export const GROUP_GAP_MS = 5 * 60 * 1000;

/** The rows of the message list: a day separator before the first event of each day, and the
 *  unread marker before the first message from someone else above unreadAfterSeq. A message
 *  row continues the previous one (cont) when that row is a message from the same sender sent
 *  less than GROUP_GAP_MS earlier, with no separator between them. */
export function rows(events: readonly ChatEvent[], me: number, unreadAfterSeq: number | null): Row[] {
  const out: Row[] = [];
  let day = '';
  let marked = false;
  for (const ev of events) {
    if (hiddenInTimeline(ev)) continue; // shown on the message it changes, or in its thread
    const k = dayKey(ev.ts);
    if (k !== day) {
      day = k;
      out.push({ kind: 'day', key: `day-${k}`, ts: ev.ts });
    }
    if (!marked && unreadAfterSeq !== null && ev.kind === 'message' && ev.sender !== me && ev.seq > unreadAfterSeq) {
      marked = true;
      out.push({ kind: 'unread', key: 'unread' });
    }
    const prev = out[out.length - 1];
    const cont =
      ev.kind === 'message' &&
      prev?.kind === 'event' &&
      prev.ev.kind === 'message' &&
      prev.ev.sender === ev.sender &&
      ev.ts - prev.ev.ts < GROUP_GAP_MS;
    out.push({ kind: 'event', key: `ev-${ev.seq}`, ev, cont });
  }
  return out;
}

export type MessageState = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export interface DeliveryView {
  state: MessageState;
  /** Other members who read it (groups). */
  readBy: string[];
}

/** The state of my message at seq, from the other members' receipts (read implies delivered). */
export function deliveryState(seq: number, sender: number, receipts: readonly ReceiptState[]): DeliveryView {
  const others = receipts.filter((r) => r.user_id !== sender);
  const readBy = others.filter((r) => r.read_seq >= seq).map((r) => r.username ?? `user ${r.user_id}`);
  if (others.length > 0 && readBy.length === others.length) return { state: 'read', readBy };
  const delivered = others.some((r) => r.delivered_seq >= seq || r.read_seq >= seq);
  return { state: delivered ? 'delivered' : 'sent', readBy };
}

/** "Ana is typing…", "Ana and Bo are typing…", "3 people are typing…". */
export function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
