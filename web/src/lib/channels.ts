// Channels (docs/protocol.md section 6.4 and section 10, "Channels"): a channel's events do not
// come through the user's stream. This module keeps a cursor per channel (the highest seq applied,
// persisted per device like `pos`), applies live `channel_event` frames in seq order, fills gaps
// from the channel's log with `history`, and resumes with `channel_heads` at every `synced`.
// Membership comes through the stream: the caller reports joins and leaves (track / untrack).
// No UI; the caller supplies the calls, so it runs unchanged under node's test runner.
import { KV, readJSON } from './kv';
import { ChatEvent } from './types';

export interface ChannelHead {
  conv: number;
  last_seq: number;
  read_seq: number;
  joined_seq: number;
}

export interface ChannelCalls {
  history(q: { conv: number; after: number; limit: number }): Promise<{ events: ChatEvent[]; has_more: boolean }>;
  heads(q: { after_conv?: number }): Promise<{ heads: ChannelHead[]; next: { after_conv: number } | null }>;
  /** Applies one channel event (once, in seq order per channel). */
  apply(ev: ChatEvent): void;
  /** A fill failed with an error other than "no longer a member"; retried after a delay. */
  setTimeout?(fn: () => void, ms: number): unknown;
}

const retryable = new Set(['rate_limited', 'unavailable', 'timeout', 'disconnected']);

export class ChannelCursors {
  private readonly key: string;
  private readonly cursors: Map<number, number>;
  private readonly filling = new Set<number>();
  private readonly again = new Set<number>();
  private resuming = false;
  private resumeAgain = false;

  constructor(
    private readonly kv: KV,
    deviceId: number,
    private readonly calls: ChannelCalls,
  ) {
    this.key = `confab.d${deviceId}.channels`;
    const stored = readJSON<Record<string, number>>(kv, this.key, {});
    this.cursors = new Map(Object.entries(stored).map(([k, v]) => [Number(k), v]));
  }

  /** The cursor of channel conv (undefined: not tracked). */
  cursor(conv: number): number | undefined {
    return this.cursors.get(conv);
  }

  tracked(): number[] {
    return [...this.cursors.keys()];
  }

  /** A stream event added me to channel conv at seq (created, members_added): everything up to
   *  it is history; newer events are filled. */
  track(conv: number, seq: number): void {
    const c = this.cursors.get(conv);
    if (c === undefined || c < seq) this.set(conv, seq);
    void this.fill(conv);
  }

  /** A stream event removed me from channel conv: its frames are ignored from now on. */
  untrack(conv: number): void {
    if (!this.cursors.delete(conv)) return;
    this.save();
  }

  /** Forget every cursor (the stream cursor was reset: the device starts fresh). */
  reset(): void {
    this.cursors.clear();
    this.save();
  }

  /** A live `channel_event` frame. */
  onFrame(conv: number, seq: number, ev: ChatEvent): void {
    const c = this.cursors.get(conv);
    if (c === undefined || seq <= c) return; // not mine (yet), or a duplicate
    if (seq === c + 1 && !this.filling.has(conv)) {
      this.calls.apply(ev);
      this.set(conv, seq);
      return;
    }
    void this.fill(conv); // a gap (or a fill running, which applies it from the log)
  }

  /** After every `synced`: the heads of my channels; those that moved are filled. fresh: a
   *  device without cursors starts every channel at its head (protocol section 10, recent state). */
  async resume(fresh = false): Promise<void> {
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = true;
    try {
      do {
        this.resumeAgain = false;
        let after: number | undefined;
        for (;;) {
          const page = await this.calls.heads(after === undefined ? {} : { after_conv: after });
          for (const h of page.heads) {
            const c = this.cursors.get(h.conv);
            if (c === undefined) {
              if (fresh) this.set(h.conv, h.last_seq);
            } else if (h.last_seq > c) void this.fill(h.conv);
          }
          if (!page.next) break;
          after = page.next.after_conv;
        }
      } while (this.resumeAgain);
    } finally {
      this.resuming = false;
    }
  }

  /** Reads channel conv's log after its cursor until it is caught up; one fill per channel at a
   *  time (a request during one makes it run again). */
  async fill(conv: number): Promise<void> {
    if (this.filling.has(conv)) {
      this.again.add(conv);
      return;
    }
    this.filling.add(conv);
    try {
      do {
        this.again.delete(conv);
        for (;;) {
          const c = this.cursors.get(conv);
          if (c === undefined) return;
          const page = await this.calls.history({ conv, after: c, limit: 100 });
          for (const ev of page.events) {
            const now = this.cursors.get(conv);
            if (now === undefined) return;
            if (ev.seq !== now + 1) continue; // at or below the cursor: applied already
            this.calls.apply(ev);
            this.set(conv, ev.seq);
          }
          if (!page.has_more || page.events.length === 0) break;
        }
      } while (this.again.has(conv));
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      // forbidden / not_found: no longer a member; the stream event that says so is on its way.
      if (retryable.has(code)) this.calls.setTimeout?.(() => void this.fill(conv), 1000);
    } finally {
      this.filling.delete(conv);
      this.again.delete(conv);
    }
  }

  private set(conv: number, seq: number): void {
    this.cursors.set(conv, seq);
    this.save();
  }

  private save(): void {
    this.kv.set(this.key, JSON.stringify(Object.fromEntries(this.cursors)));
  }
}
