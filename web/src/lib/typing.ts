// Who is typing where, from live `typing` frames. A state ends with active:false from the server
// or, as a safety net if that frame is lost, when its expires_in_ms runs out.

export interface TypingFrame {
  conv: number;
  user_id: number;
  username: string;
  active: boolean;
  expires_in_ms?: number;
  /** Typing a reply in the thread of this root (absent: in the conversation). */
  thread?: number;
}

export class TypingTracker {
  // One state per user and conversation: typing in a thread replaces typing in the conversation.
  private readonly byConv = new Map<number, Map<number, { name: string; until: number; thread?: number }>>();

  /** Applies a frame at time now; returns the time at which the state lapses (or null). */
  apply(f: TypingFrame, now: number): number | null {
    let m = this.byConv.get(f.conv);
    if (!f.active) {
      m?.delete(f.user_id);
      return null;
    }
    if (!m) this.byConv.set(f.conv, (m = new Map()));
    const until = now + (f.expires_in_ms ?? 6000);
    m.delete(f.user_id); // a change of place starts a new entry (the order is who started first)
    m.set(f.user_id, { name: f.username, until, thread: f.thread });
    return until;
  }

  /** The user stopped typing by sending a message (their message event arrived). */
  clear(conv: number, user: number): boolean {
    return this.byConv.get(conv)?.delete(user) ?? false;
  }

  clearAll(): void {
    this.byConv.clear();
  }

  /** Names typing in conv (or, with thread, in that thread of conv) at time now, in the order
   *  they started. */
  names(conv: number, now: number, thread?: number): string[] {
    const m = this.byConv.get(conv);
    if (!m) return [];
    const out: string[] = [];
    for (const [u, s] of m) {
      if (s.until <= now) m.delete(u);
      else if (s.thread === thread) out.push(s.name);
    }
    return out;
  }
}

/** Decides when to tell the server that I am typing: at most every intervalMs while typing, and a
 *  single active:false when I stop (input cleared or message sent). */
export class TypingSender {
  private lastActive = -Infinity;
  private active = false;
  constructor(private readonly intervalMs = 3000) {}

  /** Called on each input change; returns the frame to send, or null. */
  input(text: string, now: number): { active: boolean } | null {
    if (text.trim() === '') return this.stop();
    if (this.active && now - this.lastActive < this.intervalMs) return null;
    this.active = true;
    this.lastActive = now;
    return { active: true };
  }

  stop(): { active: boolean } | null {
    if (!this.active) return null;
    this.active = false;
    this.lastActive = -Infinity;
    return { active: false };
  }
}
