// What a person does to an existing message: react, edit, delete, read its edit history. Each is
// one call; the change itself reaches every device (this one included) as an event in the
// conversation's log (changes.ts applies it), so nothing here edits local state.
import { checkText } from './limits';

export type Call = <T>(op: string, body: Record<string, unknown>) => Promise<T>;

export interface EditRecord {
  text: string;
  ts: number;
}

/** A few reactions offered first; any single emoji can be sent. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

export class MessageActions {
  constructor(private readonly call: Call) {}

  async react(conv: number, seq: number, emoji: string, add: boolean): Promise<void> {
    await this.call(add ? 'react' : 'unreact', { conv, seq, emoji });
  }

  async edit(conv: number, seq: number, text: string): Promise<void> {
    checkText(text, 'An edited message cannot be empty: delete it instead.');
    await this.call('edit', { conv, seq, text });
  }

  async remove(conv: number, seq: number): Promise<void> {
    await this.call('delete_message', { conv, seq });
  }

  /** Earlier texts, oldest first, and the current one last. */
  async history(conv: number, seq: number): Promise<EditRecord[]> {
    const r = await this.call<{ versions: EditRecord[] }>('edit_history', { conv, seq });
    return r.versions;
  }
}
