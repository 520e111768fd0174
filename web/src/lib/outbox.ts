// The offline outbox (protocol section 10, "Sending"): every send not yet acknowledged, with its
// client_id, persisted before the first attempt, in creation order. Re-read from storage on every
// operation, so two tabs of the same device see one outbox; a send that both tabs retry is harmless
// because the server deduplicates (device, client_id).
import { KV, readJSON } from './kv';

export interface OutboxEntry {
  client_id: string;
  conv: number;
  text: string;
  reply_to?: number;
  /** A thread reply: the root's seq, and whether it is also shown in the conversation. */
  thread_root?: number;
  also_in_conversation?: boolean;
  created_ts: number;
  /** Set when the server refused the entry with a final error; it is then not retried. */
  failed?: { code: string; message: string };
}

export function newClientId(deviceId: number, random: (n: number) => Uint8Array): string {
  const bytes = random(12);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `${deviceId}-${hex}`;
}

export class Outbox {
  private readonly key: string;
  constructor(
    private readonly kv: KV,
    deviceId: number,
  ) {
    this.key = `confab.d${deviceId}.outbox`;
  }

  entries(): OutboxEntry[] {
    const v = readJSON<OutboxEntry[]>(this.kv, this.key, []);
    return Array.isArray(v) ? v : [];
  }

  /** Entries the sync loop should (re)send, in creation order. */
  pending(): OutboxEntry[] {
    return this.entries().filter((e) => !e.failed);
  }

  add(entry: OutboxEntry): void {
    const all = this.entries();
    if (all.some((e) => e.client_id === entry.client_id)) return;
    all.push(entry);
    this.save(all);
  }

  /** The entry is done (acked, or discarded by the user). */
  remove(clientId: string): void {
    this.save(this.entries().filter((e) => e.client_id !== clientId));
  }

  fail(clientId: string, code: string, message: string): void {
    this.save(this.entries().map((e) => (e.client_id === clientId ? { ...e, failed: { code, message } } : e)));
  }

  clear(): void {
    this.kv.remove(this.key);
  }

  private save(all: OutboxEntry[]): void {
    if (all.length === 0) this.kv.remove(this.key);
    else this.kv.set(this.key, JSON.stringify(all));
  }
}
