// Sending the outbox: every pending entry in creation order, one in flight at a time, over the
// live WebSocket, with its original client_id (a retry after a lost reply is absorbed by the
// server); and the bookkeeping of my messages that are acked but whose event has not arrived yet.
import { Outbox, OutboxEntry } from './outbox';
import { Timeline } from './timeline';
import { ApiError } from './types';

export interface PendingMessage {
  entry: OutboxEntry;
  /** The ack's seq once the server committed it (the event may not be here yet). */
  seq?: number;
}

export interface SenderOptions {
  outbox: Outbox;
  deviceId: number;
  live(): boolean;
  request<T>(op: string, fields: Record<string, unknown>): Promise<T>;
  timeline(conv: number): Timeline | undefined;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  changed(): void;
}

export class Sender {
  private flushing = false;
  private flushAgain = false;
  private retryTimer: unknown = null;
  /** Acked client_ids whose event has not arrived, with their seq and entry. */
  private readonly acked = new Map<string, { seq: number; entry: OutboxEntry }>();
  /** client_ids of my events that arrived before their ack. */
  private readonly ownCommitted = new Set<string>();

  constructor(private readonly o: SenderOptions) {}

  stop(): void {
    if (this.retryTimer !== null) this.o.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** My own message (sent from this device) arrived as an event. */
  committed(clientId: string): void {
    if (!this.acked.delete(clientId)) this.ownCommitted.add(clientId);
  }

  /** Sends every pending outbox entry, in creation order, with its original client_id. */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        for (const e of this.o.outbox.pending()) {
          if (!this.o.live()) return;
          try {
            const fields: Record<string, unknown> = { conv: e.conv, client_id: e.client_id, text: e.text };
            if (e.reply_to) fields.reply_to = e.reply_to;
            if (e.thread_root) fields.thread_root = e.thread_root;
            if (e.also_in_conversation) fields.also_in_conversation = true;
            const r = await this.o.request<{ conv: number; seq: number }>('send', fields);
            // The event may have come first (either order is possible): then nothing is pending.
            if (!this.ownCommitted.delete(e.client_id)) this.acked.set(e.client_id, { seq: r.seq, entry: e });
            this.o.outbox.remove(e.client_id);
          } catch (err) {
            const ae = err instanceof ApiError ? err : new ApiError('internal', String(err), false);
            if (ae.retryable) {
              this.scheduleRetry();
              return;
            }
            this.o.outbox.fail(e.client_id, ae.code, ae.message);
          }
          this.o.changed();
        }
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
      this.o.changed();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = this.o.setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, 2000);
  }

  /** My messages in conv that are not in the timeline yet: queued, in flight, failed, or acked
   *  with the event still on its way. */
  pendingFor(conv: number): PendingMessage[] {
    const tl = this.o.timeline(conv);
    const out: PendingMessage[] = [];
    for (const [cid, a] of this.acked) {
      if (a.entry.conv !== conv) continue;
      if (tl?.byClientId(cid, this.o.deviceId)) {
        this.acked.delete(cid);
        continue;
      }
      out.push({ entry: a.entry, seq: a.seq });
    }
    for (const e of this.o.outbox.entries()) {
      if (e.conv !== conv) continue;
      if (tl?.byClientId(e.client_id, this.o.deviceId)) continue;
      out.push({ entry: e });
    }
    return out;
  }
}
