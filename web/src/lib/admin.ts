// A conversation's settings, pins, moderation and my notification level (docs/protocol.md).
// Changes to the conversation are events in its log: every device (this one too) learns them
// from the stream, so these calls do not edit local state except my own notification level,
// which is mine alone and not an event.
import { Call } from './actions';
import { ChatEvent, ConversationSettings } from './types';

export type Notify = 'all' | 'mentions' | 'none';

export interface SettingsChange extends Partial<ConversationSettings> {
  title?: string;
  description?: string;
}

export const MAX_PINS = 50;

export class ConversationAdmin {
  /** conv -> its pinned messages, newest pin first, once loaded. */
  readonly pins = new Map<number, ChatEvent[]>();

  constructor(private readonly call: Call) {}

  async setSettings(conv: number, change: SettingsChange): Promise<void> {
    await this.call('set_conversation', { conv, ...change });
  }

  async loadPins(conv: number): Promise<ChatEvent[]> {
    const r = await this.call<{ pins: { message: ChatEvent }[] }>('pins', { conv });
    const list = r.pins.map((p) => p.message);
    this.pins.set(conv, list);
    return list;
  }

  isPinned(conv: number, seq: number): boolean {
    return this.pins.get(conv)?.some((m) => m.seq === seq) ?? false;
  }

  async pin(conv: number, seq: number, on: boolean): Promise<void> {
    await this.call(on ? 'pin' : 'unpin', { conv, seq });
  }

  /** A stream event: keeps a loaded pin list current. Returns whether it changed. */
  onEvent(ev: ChatEvent, message: (seq: number) => ChatEvent | undefined): boolean {
    const list = this.pins.get(ev.conv);
    if (!list || (ev.kind !== 'pinned' && ev.kind !== 'unpinned')) return false;
    const target = (ev.data as { target?: number } | undefined)?.target;
    if (target === undefined) return false;
    const rest = list.filter((m) => m.seq !== target);
    const m = message(target);
    this.pins.set(ev.conv, ev.kind === 'pinned' ? (m ? [m, ...rest] : rest) : rest);
    // A pin of a message not loaded here: the list is reloaded when next shown.
    if (ev.kind === 'pinned' && !m) this.pins.delete(ev.conv);
    return true;
  }

  async mute(conv: number, userId: number, durationS: number): Promise<void> {
    await this.call('mute_member', { conv, user_id: userId, duration_s: durationS });
  }

  async unmute(conv: number, userId: number): Promise<void> {
    await this.call('unmute_member', { conv, user_id: userId });
  }

  async ban(conv: number, userId: number, on: boolean): Promise<void> {
    await this.call(on ? 'ban_member' : 'unban_member', { conv, user_id: userId });
  }

  async setNotify(conv: number, level: Notify, mutedUntil?: number): Promise<void> {
    await this.call('set_notify', { conv, level, ...(mutedUntil ? { muted_until: mutedUntil } : {}) });
  }
}
