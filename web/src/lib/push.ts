// Web Push on this device (issue 15, docs/web-push.md): whether it can be on, turning it on and off,
// and keeping the server's copy of the subscription. Pure logic over an injected environment (the
// browser's in src/ui/push_env.ts, fakes in the unit tests). Every failure ends in `error`, a
// sentence for the person; nothing fails silently.
import { ApiError } from './types';

/** unknown: not checked yet (or being checked). */
export type PushState = 'unknown' | 'unsupported' | 'server-off' | 'denied' | 'off' | 'on';

export interface SubscriptionLike {
  readonly options?: { readonly applicationServerKey?: ArrayBuffer | null };
  toJSON(): { endpoint?: string; keys?: Record<string, string> };
  unsubscribe(): Promise<boolean>;
}

export interface PushManagerLike {
  getSubscription(): Promise<SubscriptionLike | null>;
  subscribe(o: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }): Promise<SubscriptionLike>;
}

export interface PushEnv {
  /** Service workers, PushManager and Notification all exist (and the page is a secure context). */
  supported: boolean;
  permission(): NotificationPermission;
  /** Only from a user gesture (the switch's click). */
  requestPermission(): Promise<NotificationPermission>;
  /** Registers the service worker if needed; the push manager of its registration once ready. */
  pushManager(): Promise<PushManagerLike>;
  call<T>(op: string, body: Record<string, unknown>): Promise<T>;
}

export const MESSAGES = {
  unsupported: 'This browser cannot receive push notifications here (it needs a service worker and the Push API, over HTTPS or on localhost).',
  serverOff: 'This server does not send push notifications.',
  denied: 'The browser refused notifications. Allow them for this site in the browser’s settings, then try again.',
  dismissed: 'Notifications were not allowed: the browser’s question was dismissed.',
} as const;

export class PushController {
  state: PushState = 'unknown';
  /** What went wrong last, for the person ('' when nothing did). */
  error = '';
  busy = false;
  private serverKey: Uint8Array | null = null;

  constructor(
    private readonly env: PushEnv,
    private readonly changed: () => void = () => {},
  ) {}

  /** For a signed-in session: finds the state, and re-registers an existing subscription (the
   *  server may have lost it; registering is idempotent there). */
  async start(): Promise<void> {
    await this.run(async () => {
      if (!(await this.check())) return;
      const pm = await this.env.pushManager();
      const sub = await pm.getSubscription();
      if (!sub) {
        this.state = 'off';
        return;
      }
      await this.register(await this.matching(pm, sub));
    });
  }

  /** The service worker reports the subscription changed: registers the current one, or subscribes
   *  again if it is gone while notifications were on (permission is granted already). */
  async refresh(): Promise<void> {
    const wasOn = this.state === 'on';
    await this.run(async () => {
      if (!(await this.check())) return;
      const pm = await this.env.pushManager();
      let sub = await pm.getSubscription();
      if (!sub && !wasOn) {
        this.state = 'off';
        return;
      }
      sub = sub ? await this.matching(pm, sub) : await this.subscribe(pm);
      await this.register(sub);
    });
  }

  /** The switch turned on (call from the click: the permission prompt needs a user gesture). */
  async enable(): Promise<void> {
    await this.run(async () => {
      if (!(await this.check(true))) return;
      const pm = await this.env.pushManager();
      const existing = await pm.getSubscription();
      const sub = existing ? await this.matching(pm, existing) : await this.subscribe(pm);
      await this.register(sub);
    });
  }

  /** The switch turned off: the server forgets this device's target, then the browser unsubscribes. */
  async disable(): Promise<void> {
    await this.run(async () => {
      let told = '';
      try {
        await this.env.call('push_unregister', {});
      } catch (e) {
        told = e instanceof ApiError ? e.message : String(e);
      }
      await this.unsubscribeLocal();
      this.state = this.env.supported && this.env.permission() === 'denied' ? 'denied' : 'off';
      if (told)
        this.error = `Notifications are off in this browser, but the server could not be told (${told}); it stops sending when the push service reports the subscription gone.`;
    });
  }

  /** Sign-out (the server already dropped the target with the device): unsubscribes the browser. */
  async forget(): Promise<void> {
    try {
      await this.unsubscribeLocal();
    } catch {
      /* the session is gone; the push service's subscription expires unused */
    }
    this.state = 'unknown';
    this.changed();
  }

  // ---------------------------------------------------------------- steps

  /** Support, the server's key and the permission. False (with the state set) when push cannot be on. */
  private async check(ask = false): Promise<boolean> {
    if (!this.env.supported) {
      this.state = 'unsupported';
      this.error = ask ? MESSAGES.unsupported : '';
      return false;
    }
    try {
      const r = await this.env.call<{ key: string }>('push_vapid_key', {});
      this.serverKey = base64urlToBytes(r.key);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'unavailable' || e.code === 'unknown_op')) {
        this.state = 'server-off';
        this.error = ask ? MESSAGES.serverOff : '';
        return false;
      }
      throw e;
    }
    let perm = this.env.permission();
    if (ask && perm === 'default') perm = await this.env.requestPermission();
    if (perm === 'denied') {
      this.state = 'denied';
      this.error = ask ? MESSAGES.denied : '';
      return false;
    }
    if (perm !== 'granted') {
      this.state = 'off';
      if (ask) this.error = MESSAGES.dismissed;
      return false;
    }
    return true;
  }

  /** sub, or a new subscription when sub was made for another server key (the key was rotated). */
  private async matching(pm: PushManagerLike, sub: SubscriptionLike): Promise<SubscriptionLike> {
    const key = sub.options?.applicationServerKey;
    if (!key || sameBytes(new Uint8Array(key), this.serverKey!)) return sub;
    await sub.unsubscribe();
    return this.subscribe(pm);
  }

  private async subscribe(pm: PushManagerLike): Promise<SubscriptionLike> {
    try {
      return await pm.subscribe({ userVisibleOnly: true, applicationServerKey: this.serverKey! });
    } catch (e) {
      this.state = 'off';
      throw new Failure(`The browser could not subscribe to push notifications: ${describe(e)}`);
    }
  }

  private async register(sub: SubscriptionLike): Promise<void> {
    const j = sub.toJSON();
    try {
      await this.env.call('push_register', { target: { kind: 'webpush', endpoint: j.endpoint, keys: j.keys } });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'unavailable' || e.code === 'unknown_op')) {
        await sub.unsubscribe().catch(() => false);
        this.state = 'server-off';
        throw new Failure(MESSAGES.serverOff);
      }
      if (e instanceof ApiError && !e.retryable) {
        // The server refused this subscription (e.g. its endpoint): it would never be used.
        await sub.unsubscribe().catch(() => false);
        this.state = 'off';
        throw new Failure(`The server refused this browser’s push subscription: ${e.message}.`);
      }
      throw e; // retryable: the subscription stays, registered again at the next start
    }
    this.state = 'on';
  }

  private async unsubscribeLocal(): Promise<void> {
    if (!this.env.supported) return;
    const sub = await (await this.env.pushManager()).getSubscription();
    await sub?.unsubscribe();
  }

  /** Runs one step with busy set; turns every failure into `error`. */
  private async run(step: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = '';
    this.changed();
    try {
      await step();
    } catch (e) {
      if (e instanceof Failure) this.error = e.message;
      else if (e instanceof ApiError)
        this.error =
          e.retryable || e.code === 'disconnected'
            ? `Could not reach the server to set up notifications (${e.message}). Try again.`
            : `Notifications could not be set up: ${e.message}.`;
      else this.error = `Notifications could not be set up: ${describe(e)}`;
      if (this.state === 'unknown') this.state = 'off';
    } finally {
      this.busy = false;
      this.changed();
    }
  }
}

/** A failure whose message is already the sentence to show. */
class Failure extends Error {}

function describe(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.message} (${e.name})` : e.message;
  return String(e);
}

/** Unpadded (or padded) base64url to bytes; throws on anything else. */
export function base64urlToBytes(s: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new Error('not base64url');
  const b64 = s.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
