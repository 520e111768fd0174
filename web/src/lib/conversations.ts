// The conversation list: summaries from `conversations`, kept current by stream events. Applying
// an event is idempotent: events at or below a summary's last_seq are already reflected in it.
import { hiddenInTimeline, isChange, previewAfter } from './changes';
import { ChatEvent, shownName, Summary } from './types';

export type Change = { kind: 'updated' } | { kind: 'unknown_conv'; conv: number } | { kind: 'removed'; conv: number };

export class ConversationList {
  private readonly byId = new Map<number, Summary>();

  constructor(private readonly me: number) {}

  /** Sets (or replaces) summaries, e.g. from a `conversations` page or a `conversation` call. */
  upsert(items: Summary[]): void {
    for (const s of items) {
      const old = this.byId.get(s.conv);
      // A summary read before newer events were applied must not roll them back.
      if (old && old.last_seq > s.last_seq) continue;
      this.byId.set(s.conv, { ...s });
    }
  }

  get(conv: number): Summary | undefined {
    return this.byId.get(conv);
  }

  remove(conv: number): void {
    this.byId.delete(conv);
  }

  /** Activity order: last_ts descending, then conv descending (as the server orders them). */
  ordered(): Summary[] {
    return [...this.byId.values()].sort((a, b) => b.last_ts - a.last_ts || b.conv - a.conv);
  }

  /** The unread count for the tab title (protocol section 3, total unread): a conversation set to
   *  notify "mentions" counts its unread mentions; one set to "none", or muted until a time still
   *  ahead, counts nothing. */
  totalUnread(now = Date.now()): number {
    let n = 0;
    for (const s of this.byId.values()) {
      if (quiet(s, now)) continue;
      n += s.notify === 'mentions' ? (s.unread_mentions ?? 0) : s.unread;
    }
    return n;
  }

  /** Applies one stream event. Returns what the caller must do next, if anything. */
  apply(ev: ChatEvent): Change {
    const leaving =
      (ev.kind === 'member_removed' || ev.kind === 'member_left' || ev.kind === 'member_banned') &&
      (ev.data as { user?: number })?.user === this.me;
    const s = this.byId.get(ev.conv);
    if (leaving) {
      // Kept, read-only: a former member may still read the history up to the removal.
      if (s && ev.seq > s.last_seq) {
        s.left = true;
        s.last_seq = ev.seq;
        s.last_ts = Math.max(s.last_ts, ev.ts);
        s.read_seq = ev.seq;
        s.unread = 0;
      }
      return { kind: 'removed', conv: ev.conv };
    }
    if (!s) return { kind: 'unknown_conv', conv: ev.conv };
    if (ev.seq <= s.last_seq) return { kind: 'updated' };
    s.last_seq = ev.seq;
    s.last_ts = Math.max(s.last_ts, ev.ts);
    if (ev.kind === 'message') {
      // A reply only in its thread is not the conversation's news: no preview, no unread (its
      // thread counts it), but a mention in it is still a mention.
      const threadOnly = hiddenInTimeline(ev);
      if (!threadOnly) s.last_message = ev;
      if (ev.sender === this.me) {
        // Sending moves my read pointer to the message (protocol: send's effect).
        s.read_seq = Math.max(s.read_seq, ev.seq);
        s.unread = 0;
        s.unread_mentions = 0;
      }
      else if (ev.seq > s.read_seq) {
        if (!threadOnly) s.unread += 1;
        if (mentionsMe(ev, this.me)) s.unread_mentions = (s.unread_mentions ?? 0) + 1;
      }
    }
    if (isChange(ev)) s.last_message = previewAfter(s.last_message, ev, this.me);
    const target = (ev.data as { user?: number } | undefined)?.user;
    if (ev.kind === 'member_muted' && target === this.me) s.member_muted_until = (ev.data as { until?: number }).until;
    if (ev.kind === 'member_unmuted' && target === this.me) delete s.member_muted_until;
    if (ev.kind === 'role_changed') {
      const d = ev.data as { user?: number; role?: Summary['role']; by?: number; previous_owner_role?: Summary['role'] };
      if (d.user === this.me && d.role) s.role = d.role;
      if (d.by === this.me && d.previous_owner_role) s.role = d.previous_owner_role;
    }
    return { kind: 'updated' };
  }

  /** My read pointer moved to readSeq (this device or another). A pointer that did not move
   *  (a delivery receipt carries the read pointer unchanged) changes nothing. unreadAfter counts
   *  the messages from others above readSeq; without it, a pointer short of last_seq keeps the
   *  count as it is and returns false (the caller should refetch the summary). */
  markRead(conv: number, readSeq: number, unreadAfter?: number): boolean {
    const s = this.byId.get(conv);
    if (!s || readSeq <= s.read_seq) return true;
    s.read_seq = readSeq;
    if (readSeq >= s.last_seq) {
      s.unread = 0;
      s.unread_mentions = 0;
    } else if (unreadAfter !== undefined && !s.unread_mentions) s.unread = unreadAfter;
    else return false; // how many mentions remain is the server's to say

    return true;
  }
}

/** Whether a message mentions me: by name, or by @all / @here (from someone else). */
export function mentionsMe(ev: ChatEvent, me: number): boolean {
  return ev.sender !== me && !!(ev.mentions?.includes(me) || ev.mention_all || ev.mention_here);
}

/** Whether a conversation is quiet for me now (notify "none", or muted until a later time). */
export function quiet(s: Summary, now: number): boolean {
  return s.notify === 'none' || (s.muted_until !== undefined && s.muted_until > now);
}

/** Two-letter initials for an avatar: "Ana Lima" → "AL", "bob" → "BO", "x" → "X". */
export function initials(name: string): string {
  const words = name.split(/[\s._-]+/).filter(Boolean);
  if (words.length >= 2) return (words[0][0] + words[1][0]).toUpperCase();
  return (words[0] ?? '?').slice(0, 2).toUpperCase();
}

/** The title a person sees: the group's title, or the other member's name for a direct chat. */
export function displayTitle(s: Summary, me: number): string {
  if (s.kind === 'group') return s.title;
  if (s.kind === 'channel') return `# ${s.title}`;
  const other = s.members?.find((m) => m.user_id !== me);
  return other ? shownName(other) : 'Direct chat';
}

export function otherMember(s: Summary, me: number): number | undefined {
  return s.kind === 'direct' ? s.members?.find((m) => m.user_id !== me)?.user_id : undefined;
}
