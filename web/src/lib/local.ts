// What one device keeps in this browser besides its cursor and outbox: a draft per conversation
// and a copy of the conversation list (so a reload without a network still shows it). Both are
// removed when the device signs out.
import { KV, readJSON } from './kv';
import { Summary } from './types';

export interface SavedList {
  convs: Summary[];
  users: [number, string][];
}

export class LocalState {
  constructor(
    private readonly kv: KV,
    private readonly prefix: string, // confab.d<device>
  ) {}

  /** key: a conversation id, or "conv:root" for a thread. */
  draft(conv: number | string): string {
    return this.drafts()[conv] ?? '';
  }

  setDraft(conv: number | string, text: string): void {
    const all = this.drafts();
    if (text) all[conv] = text;
    else delete all[conv];
    if (Object.keys(all).length) this.kv.set(`${this.prefix}.drafts`, JSON.stringify(all));
    else this.kv.remove(`${this.prefix}.drafts`);
  }

  savedList(): SavedList | null {
    const c = readJSON<Partial<SavedList> | null>(this.kv, `${this.prefix}.cache`, null);
    if (!c || !Array.isArray(c.convs)) return null;
    return { convs: c.convs, users: Array.isArray(c.users) ? c.users : [] };
  }

  saveList(list: SavedList): void {
    this.kv.set(`${this.prefix}.cache`, JSON.stringify(list));
  }

  clear(): void {
    this.kv.remove(`${this.prefix}.drafts`);
    this.kv.remove(`${this.prefix}.cache`);
  }

  private drafts(): Record<string, string> {
    const v = readJSON<unknown>(this.kv, `${this.prefix}.drafts`, {});
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  }
}
