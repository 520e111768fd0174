// One conversation's events as the view shows them: pages from `history` merged with live
// events, deduplicated by seq, always ascending; plus helpers for day separators and the per-
// message delivery state from receipts.
import { ChatEvent, ReceiptState } from './types';

export class Timeline {
  private readonly bySeq = new Map<number, ChatEvent>();
  private sorted: ChatEvent[] = [];
  /** Whether older events exist below the oldest one held. */
  hasMoreBefore = true;
  /** Whether the newest page was loaded (so live events can be appended without a gap). */
  loadedLatest = false;

  constructor(readonly conv: number) {}

  /** Adds events (any order, duplicates ignored). Returns how many were new. */
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

/** Local calendar day key, e.g. "2026-11-28". */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export type Row =
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'unread'; key: string }
  | { kind: 'event'; key: string; ev: ChatEvent };

/** The rows of the message list: a day separator before the first event of each day, and the
 *  unread marker before the first message from someone else above unreadAfterSeq. */
export function rows(events: readonly ChatEvent[], me: number, unreadAfterSeq: number | null): Row[] {
  const out: Row[] = [];
  let day = '';
  let marked = false;
  for (const ev of events) {
    const k = dayKey(ev.ts);
    if (k !== day) {
      day = k;
      out.push({ kind: 'day', key: `day-${k}`, ts: ev.ts });
    }
    if (!marked && unreadAfterSeq !== null && ev.kind === 'message' && ev.sender !== me && ev.seq > unreadAfterSeq) {
      marked = true;
      out.push({ kind: 'unread', key: 'unread' });
    }
    out.push({ kind: 'event', key: `ev-${ev.seq}`, ev });
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
