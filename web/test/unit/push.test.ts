// PushController (lib/push.ts) against a fake browser and server: each state, turning push on and
// off, a rotated server key, re-registration at start, and the sentence shown for each failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base64urlToBytes, MESSAGES, PushController, PushEnv, PushManagerLike, SubscriptionLike } from '../../src/lib/push';
import { ApiError } from '../../src/lib/types';

const KEY_A = 'BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const KEY_B = 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

class FakeSub implements SubscriptionLike {
  unsubscribed = false;
  readonly options: { applicationServerKey: ArrayBuffer };
  constructor(
    readonly endpoint: string,
    key: Uint8Array,
    private readonly owner: FakeManager,
  ) {
    this.options = { applicationServerKey: key.slice().buffer };
  }
  toJSON() {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: 'P256DH', auth: 'AUTH' } } as ReturnType<SubscriptionLike['toJSON']>;
  }
  async unsubscribe(): Promise<boolean> {
    this.unsubscribed = true;
    if (this.owner.current === this) this.owner.current = null;
    return true;
  }
}

class FakeManager implements PushManagerLike {
  current: FakeSub | null = null;
  subscribeError: Error | null = null;
  subscribed: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }[] = [];
  private n = 0;
  async getSubscription() {
    return this.current;
  }
  async subscribe(o: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) {
    if (this.subscribeError) throw this.subscribeError;
    this.subscribed.push(o);
    this.current = new FakeSub(`https://push.example/${++this.n}`, o.applicationServerKey, this);
    return this.current;
  }
}

function fake(opts: { supported?: boolean; permission?: NotificationPermission; answer?: NotificationPermission; key?: string | ApiError } = {}) {
  const pm = new FakeManager();
  const calls: { op: string; body: Record<string, unknown> }[] = [];
  const errors: Record<string, ApiError> = {};
  let permission = opts.permission ?? 'default';
  let asked = 0;
  const key = opts.key ?? KEY_A;
  const env: PushEnv = {
    supported: opts.supported ?? true,
    permission: () => permission,
    requestPermission: async () => {
      asked++;
      permission = opts.answer ?? 'granted';
      return permission;
    },
    pushManager: async () => pm,
    call: async <T,>(op: string, body: Record<string, unknown>): Promise<T> => {
      calls.push({ op, body });
      if (errors[op]) throw errors[op];
      if (op === 'push_vapid_key') {
        if (key instanceof ApiError) throw key;
        return { key } as T;
      }
      if (op === 'push_register') return { kind: 'webpush' } as T;
      if (op === 'push_unregister') return { removed: true } as T;
      throw new Error(`unexpected ${op}`);
    },
  };
  let changes = 0;
  const c = new PushController(env, () => changes++);
  return { c, pm, calls, errors, asked: () => asked, changes: () => changes, ops: () => calls.map((x) => x.op) };
}

test('base64url keys decode to bytes (padded or not); anything else is refused', () => {
  assert.deepEqual([...base64urlToBytes('AQID-_8')], [1, 2, 3, 251, 255]);
  assert.deepEqual([...base64urlToBytes('AQID-_8=')], [1, 2, 3, 251, 255]);
  assert.equal(base64urlToBytes(KEY_A).length, 65);
  assert.throws(() => base64urlToBytes('a+b/'));
  assert.throws(() => base64urlToBytes('not base64!'));
});

test('unsupported browser: the state says so and enabling explains why', async () => {
  const f = fake({ supported: false });
  await f.c.start();
  assert.equal(f.c.state, 'unsupported');
  assert.equal(f.c.error, '');
  assert.deepEqual(f.ops(), []);
  await f.c.enable();
  assert.equal(f.c.state, 'unsupported');
  assert.equal(f.c.error, MESSAGES.unsupported);
});

test('a server without Web Push (unavailable, or an older one without the op) is server-off', async () => {
  for (const err of [new ApiError('unavailable', 'this server sends no Web Push', false), new ApiError('unknown_op', 'no such op', false)]) {
    const f = fake({ key: err });
    await f.c.start();
    assert.equal(f.c.state, 'server-off');
    await f.c.enable();
    assert.equal(f.c.state, 'server-off');
    assert.equal(f.c.error, 'This server does not send push notifications.');
    assert.equal(f.asked(), 0, 'no permission asked for nothing');
  }
});

test('permission denied: the state is denied, and enabling says the browser refused', async () => {
  const f = fake({ permission: 'denied' });
  await f.c.start();
  assert.equal(f.c.state, 'denied');
  await f.c.enable();
  assert.equal(f.c.state, 'denied');
  assert.match(f.c.error, /^The browser refused notifications/);
  assert.equal(f.pm.subscribed.length, 0);
});

test('asking for permission: refused or dismissed, each with its sentence', async () => {
  const refused = fake({ answer: 'denied' });
  await refused.c.start();
  assert.equal(refused.c.state, 'off', 'not asked at start');
  assert.equal(refused.asked(), 0);
  await refused.c.enable();
  assert.equal(refused.asked(), 1);
  assert.equal(refused.c.state, 'denied');
  assert.equal(refused.c.error, MESSAGES.denied);
  const dismissed = fake({ answer: 'default' });
  await dismissed.c.enable();
  assert.equal(dismissed.c.state, 'off');
  assert.equal(dismissed.c.error, MESSAGES.dismissed);
});

test('enable: permission, subscribe with the server key, register the subscription as toJSON gives it', async () => {
  const f = fake();
  await f.c.start();
  assert.equal(f.c.state, 'off');
  await f.c.enable();
  assert.equal(f.c.state, 'on');
  assert.equal(f.c.error, '');
  assert.equal(f.c.busy, false);
  assert.ok(f.changes() >= 2);
  assert.equal(f.pm.subscribed.length, 1);
  assert.equal(f.pm.subscribed[0].userVisibleOnly, true);
  assert.deepEqual(f.pm.subscribed[0].applicationServerKey, base64urlToBytes(KEY_A));
  const reg = f.calls.find((x) => x.op === 'push_register')!;
  assert.deepEqual(reg.body, { target: { kind: 'webpush', endpoint: 'https://push.example/1', keys: { p256dh: 'P256DH', auth: 'AUTH' } } });
});

test('disable: the server forgets the target, then the browser unsubscribes', async () => {
  const f = fake();
  await f.c.enable();
  const sub = f.pm.current!;
  await f.c.disable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.c.error, '');
  assert.deepEqual(f.ops().slice(-1), ['push_unregister']);
  assert.ok(sub.unsubscribed);
  assert.equal(f.pm.current, null);
});

test('disable with the server unreachable: off in the browser, and the person is told', async () => {
  const f = fake();
  await f.c.enable();
  f.errors.push_unregister = new ApiError('disconnected', 'cannot reach the server', true);
  await f.c.disable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.pm.current, null);
  assert.match(f.c.error, /^Notifications are off in this browser, but the server could not be told \(cannot reach the server\)/);
});

test('start with a subscription registers it again (a server that lost it gets it back)', async () => {
  const f = fake({ permission: 'granted' });
  await f.pm.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlToBytes(KEY_A) });
  await f.c.start();
  assert.equal(f.c.state, 'on');
  assert.deepEqual(f.ops(), ['push_vapid_key', 'push_register']);
  assert.equal(f.pm.subscribed.length, 1, 'the same subscription');
  assert.equal(f.asked(), 0);
});

test('a rotated server key: the old subscription is dropped and a new one registered', async () => {
  const f = fake({ permission: 'granted', key: KEY_B });
  const old = await f.pm.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlToBytes(KEY_A) });
  await f.c.start();
  assert.equal(f.c.state, 'on');
  assert.ok(old.unsubscribed);
  assert.equal(f.pm.subscribed.length, 2);
  assert.deepEqual(f.pm.subscribed[1].applicationServerKey, base64urlToBytes(KEY_B));
  const reg = f.calls.find((x) => x.op === 'push_register')!;
  assert.equal((reg.body.target as { endpoint: string }).endpoint, 'https://push.example/2');
  // The same on enable.
  const g = fake({ permission: 'granted', key: KEY_B });
  const old2 = await g.pm.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlToBytes(KEY_A) });
  await g.c.enable();
  assert.ok(old2.unsubscribed);
  assert.equal(g.c.state, 'on');
});

test('the browser cannot subscribe: its error is shown, and the switch stays off', async () => {
  const f = fake();
  f.pm.subscribeError = Object.assign(new Error('Registration failed - push service error'), { name: 'AbortError' });
  await f.c.enable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.c.error, 'The browser could not subscribe to push notifications: Registration failed - push service error (AbortError)');
  assert.ok(!f.ops().includes('push_register'));
});

test('the server refuses the subscription: its reason is shown and the subscription dropped', async () => {
  const f = fake();
  f.errors.push_register = new ApiError('invalid_field', 'endpoint: the host is a private address', false);
  await f.c.enable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.c.error, 'The server refused this browser’s push subscription: endpoint: the host is a private address.');
  assert.equal(f.pm.current, null);
});

test('push_register unavailable (the server stopped sending Web Push): server-off', async () => {
  const f = fake();
  f.errors.push_register = new ApiError('unavailable', 'this server does not send webpush pushes', false);
  await f.c.enable();
  assert.equal(f.c.state, 'server-off');
  assert.equal(f.c.error, MESSAGES.serverOff);
});

test('the server unreachable while enabling: says so; the subscription is kept for the next start', async () => {
  const f = fake();
  f.errors.push_register = new ApiError('disconnected', 'cannot reach the server', true);
  await f.c.enable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.c.error, 'Could not reach the server to set up notifications (cannot reach the server). Try again.');
  assert.notEqual(f.pm.current, null);
  delete f.errors.push_register;
  await f.c.start();
  assert.equal(f.c.state, 'on');
});

test('a bad key from the server is reported, not swallowed', async () => {
  const f = fake({ key: 'not a key!' });
  await f.c.enable();
  assert.equal(f.c.state, 'off');
  assert.equal(f.c.error, 'Notifications could not be set up: not base64url');
});

test('the worker reports a changed subscription: refresh registers the new one, or subscribes again when on', async () => {
  const f = fake();
  await f.c.enable();
  f.pm.current = null; // the push service dropped it
  await f.c.refresh();
  assert.equal(f.c.state, 'on');
  assert.equal(f.pm.subscribed.length, 2);
  assert.equal(f.ops().filter((o) => o === 'push_register').length, 2);
  const g = fake({ permission: 'granted' });
  await g.c.start();
  await g.c.refresh();
  assert.equal(g.c.state, 'off', 'off stays off');
  assert.equal(g.pm.subscribed.length, 0);
});

test('sign-out: forget unsubscribes the browser without asking the server', async () => {
  const f = fake();
  await f.c.enable();
  const sub = f.pm.current!;
  const before = f.calls.length;
  await f.c.forget();
  assert.ok(sub.unsubscribed);
  assert.equal(f.calls.length, before);
});
