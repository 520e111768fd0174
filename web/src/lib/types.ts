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
}

export interface Member {
  user_id: number;
  username: string;
  role: 'owner' | 'admin' | 'member';
  joined_seq: number;
}

export interface Summary {
  conv: number;
  kind: 'direct' | 'group';
  title: string;
  last_seq: number;
  last_ts: number;
  read_seq: number;
  unread: number;
  role: 'owner' | 'admin' | 'member';
  last_message: ChatEvent | null;
  members?: Member[];
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
}

export interface ReceiptState {
  user_id: number;
  username?: string;
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
