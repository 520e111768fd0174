// Wire types of Confab's protocol (docs/protocol.md, sections 3 and 4).

export interface ChatEvent {
  conv: number;
  seq: number;
  kind: string;
  sender: number;
  device: number;
  ts: number;
  client_id?: string;
  text?: string;
  content_type?: string;
  reply_to?: number;
  data?: Record<string, unknown>;
  /** When the text was last edited (absent: never). */
  edited_ts?: number;
  /** Deleted for everyone: the text is gone (""), the seq keeps its place. */
  deleted?: boolean;
  /** Aggregated reactions: per emoji, how many and whether I am one of them. */
  reactions?: Reaction[];
  /** A thread reply: the seq of its root. */
  thread_root?: number;
  /** A thread reply also shown in the conversation. */
  also_in_conversation?: boolean;
  /** Users mentioned by @username, resolved by the server at send time. */
  mentions?: number[];
  mention_all?: boolean;
  mention_here?: boolean;
  /** A thread root's summary. */
  thread?: ThreadSummary;
}

export interface Reaction {
  emoji: string;
  count: number;
  me: boolean;
}

export interface ThreadSummary {
  replies: number;
  last_ts: number;
  /** The seq of the latest reply counted (a reply at or below it is already in the summary). */
  last_seq?: number;
  participants: number[];
  following: boolean;
  unread: number;
}

export interface Member {
  user_id: number;
  username: string;
  /** The name the person chose ("" or absent when unset: show the username). */
  display_name?: string;
  role: 'owner' | 'admin' | 'member';
  joined_seq: number;
}

export interface Summary {
  conv: number;
  kind: 'direct' | 'group' | 'channel';
  title: string;
  /** Channels only (protocol section 6.4). */
  channel?: { topic: string; visibility: 'public' | 'private'; member_count: number };
  last_seq: number;
  last_ts: number;
  read_seq: number;
  unread: number;
  role: 'owner' | 'admin' | 'member';
  last_message: ChatEvent | null;
  members?: Member[];
  /** Messages mentioning me (directly, @all or @here) above my read pointer. */
  unread_mentions?: number;
  description?: string;
  settings?: ConversationSettings;
  /** My notification level here; "none" (or muted_until in the future) leaves it out of the
   *  total unread count. */
  notify?: 'all' | 'mentions' | 'none';
  muted_until?: number;
  /** While a moderator has muted me here (ms): I cannot post or pin until then. */
  member_muted_until?: number;
  /** Client-side: I was removed (or left on another device) while the client ran. The history up
   *  to then stays readable; nothing can be sent. */
  left?: boolean;
}

export interface ConversationSettings {
  post_policy: 'everyone' | 'admins';
  pin_policy: 'everyone' | 'admins';
  wildcard_limit: number;
  slow_mode_s: number;
}

/** A user as others see them (find_users, users, set_profile). */
export interface UserBrief {
  user_id: number;
  username: string;
  display_name?: string;
}

/** The name to show for a user: the display name, else the username. */
export function shownName(u: { username: string; display_name?: string }): string {
  return u.display_name || u.username;
}

export interface Session {
  token: string;
  user_id: number;
  username: string;
  device_id: number;
}

export interface Device {
  device_id: number;
  name: string;
  created_ts: number;
  revoked_ts: number | null;
  /** When the device last authenticated (servers before profiles omit it). */
  last_active_ms?: number;
}

export interface ReceiptState {
  user_id: number;
  username?: string;
  display_name?: string;
  delivered_seq: number;
  read_seq: number;
}

export interface PresenceState {
  user_id: number;
  online: boolean;
  last_seen_ts: number | null;
}

/** A typed failure: branch on `code` (protocol section 8). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The connection dropped before the reply arrived; the request may or may not have taken effect. */
export function connectionLost(): ApiError {
  return new ApiError('disconnected', 'the connection was lost', true);
}

/** A channel as the directory lists it (`channels`, `channel`). */
export interface ChannelInfo {
  conv: number;
  title: string;
  topic: string;
  visibility: 'public' | 'private';
  member_count: number;
  last_seq: number;
  last_ts: number;
  joined: boolean;
}
