// The names the client shows for user ids: learned from every answer that carries users, and
// asked for by id (the `users` operation, which also knows people who have left a conversation)
// in batches when a view needs one that is not known.
import { shownName, UserBrief } from './types';

export interface NamesOptions {
  /** Profiles of ids (at most 100); undefined when they could not be fetched. */
  fetch(ids: number[]): Promise<UserBrief[] | undefined>;
  setTimeout(fn: () => void, ms: number): unknown;
  /** Called after names were learned from a fetch. */
  changed(): void;
}

export class Names {
  /** user id -> the name to show (display name, else username). */
  readonly shown = new Map<number, string>();
  /** user id -> username (the handle that @mentions use). */
  readonly usernames = new Map<number, string>();
  private readonly wanted = new Set<number>();
  private readonly asked = new Set<number>();
  private timer: unknown = null;

  constructor(private readonly o: NamesOptions) {}

  learn(u: UserBrief): void {
    this.shown.set(u.user_id, shownName(u));
    this.usernames.set(u.user_id, u.username);
  }

  /** Asks for id's name (batched with others asked for in the same turn), once per id: people
   *  the server does not show stay unnamed. */
  want(id: number): void {
    if (this.shown.has(id) || this.asked.has(id)) return;
    this.wanted.add(id);
    if (this.timer !== null) return;
    this.timer = this.o.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, 0);
  }

  private async flush(): Promise<void> {
    const ids = [...this.wanted].slice(0, 100);
    for (const id of ids) {
      this.wanted.delete(id);
      this.asked.add(id);
    }
    if (ids.length === 0) return;
    const users = await this.o.fetch(ids);
    if (!users) for (const id of ids) this.asked.delete(id); // failed: may be asked again later
    for (const u of users ?? []) this.learn(u);
    const more = [...this.wanted][0];
    if (more !== undefined) {
      this.wanted.delete(more);
      this.want(more);
    }
    this.o.changed();
  }
}
