// Web Push in the browser (issue 15, docs/web-push.md): the "Notifications on this device" switch,
// and the service worker's handling of pushes. No push service is reachable from this sandbox, so
// payloads are delivered to the registered worker through DevTools (ServiceWorker.deliverPushMessage),
// as the browser would after decrypting a real push.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Browser, BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { launch, newUserPage, register, Server, shot, startDirect, textIs, until } from './harness';

const keyDir = mkdtempSync(join(tmpdir(), 'confab-vapid-'));
const keyFile = join(keyDir, 'vapid.pem');
let server: Server;
let browser: Browser;

before(async () => {
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  server = new Server(['--push-vapid-key', keyFile, '--push-vapid-subject', 'mailto:ops@example.com']);
  await server.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
  rmSync(keyDir, { recursive: true, force: true });
});

/** A signed-in user's page with notifications allowed for the server's origin. */
async function userPage(s: Server, username: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const u = await newUserPage(browser, s);
  await u.ctx.grantPermissions(['notifications'], { origin: s.base });
  await register(u.page, username);
  return u;
}

async function openDevices(page: Page) {
  await page.getByRole('button', { name: 'Devices' }).click();
  return page.getByRole('dialog').locator('.push-switch');
}

test('without --push-vapid-key the switch is off and says the server sends no push notifications', async () => {
  const plain = new Server();
  await plain.start();
  try {
    const { ctx, page } = await userPage(plain, 'quinn');
    const sw = await openDevices(page);
    await textIs(sw.getByTestId('push-status'), 'This server does not send push notifications.', 'the switch status');
    const toggle = sw.getByRole('switch', { name: 'Notifications on this device' });
    assert.equal(await toggle.isDisabled(), true);
    assert.equal(await toggle.isChecked(), false);
    await shot(page, 'push-server-off');
    await ctx.close();
  } finally {
    await plain.dispose();
  }
});

test('turning notifications on: the subscription is registered, or the browser’s own error is shown', async () => {
  const { ctx, page } = await userPage(server, 'rosa');
  const sw = await openDevices(page);
  await until('the switch to be ready', async () => (await sw.getAttribute('data-push-state')) === 'off' || `${await sw.getAttribute('data-push-state')}`);
  const toggle = sw.getByRole('switch', { name: 'Notifications on this device' });
  await toggle.click();
  // Headless Chromium here usually cannot reach a push service: then the browser's error must be
  // shown, with the switch off, rather than a switch that pretends to be on.
  await until(
    'the outcome of turning notifications on',
    async () => {
      const state = await sw.getAttribute('data-push-state');
      const error = (await sw.getByTestId('push-error').innerText()).trim();
      return (state === 'on' && error === '') || (state === 'off' && error !== '') || `${state}: ${error}`;
    },
    60000,
  );
  await shot(page, 'push-switch-outcome');
  if ((await sw.getAttribute('data-push-state')) === 'on') {
    assert.equal(await toggle.isChecked(), true);
    await toggle.click();
    await until('off again', async () => (await sw.getAttribute('data-push-state')) === 'off');
    assert.equal((await sw.getByTestId('push-error').innerText()).trim(), '');
  } else {
    assert.equal(await toggle.isChecked(), false);
    assert.match(await sw.getByTestId('push-error').innerText(), /^The browser could not subscribe to push notifications: .+/);
  }
  await ctx.close();
});

/** Stands in for the browser's push service (which Playwright's contexts refuse): subscribe()
 *  gives a subscription to the endpoint stored under fake-push-endpoint, kept in localStorage so
 *  that it outlives a reload, with a real P-256 key (the server checks it). */
async function fakePushService(ctx: BrowserContext): Promise<void> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  await ctx.addInitScript((k) => {
    const KEY = 'fake-push-sub';
    type Stored = { endpoint: string; keys: Record<string, string>; key: number[] };
    const make = (j: Stored) => ({
      options: { applicationServerKey: new Uint8Array(j.key).buffer },
      toJSON: () => ({ endpoint: j.endpoint, keys: j.keys }),
      unsubscribe: async () => {
        localStorage.removeItem(KEY);
        return true;
      },
    });
    PushManager.prototype.getSubscription = async function () {
      const s = localStorage.getItem(KEY);
      return (s ? make(JSON.parse(s)) : null) as unknown as PushSubscription;
    };
    PushManager.prototype.subscribe = async function (o?: PushSubscriptionOptionsInit) {
      const j: Stored = { endpoint: localStorage.getItem('fake-push-endpoint') ?? '', keys: k, key: [...new Uint8Array(o!.applicationServerKey as ArrayBuffer)] };
      localStorage.setItem(KEY, JSON.stringify(j));
      return make(j) as unknown as PushSubscription;
    };
  }, keys);
}

test('with a push service: registered with the server, again at each start, refused with the server’s reason, removed when turned off', async () => {
  const u = await newUserPage(browser, server);
  await u.ctx.grantPermissions(['notifications'], { origin: server.base });
  await fakePushService(u.ctx);
  const page = u.page;
  await page.reload(); // the stand-in applies from the next load
  await register(page, 'uma');
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')!).token as string);
  const registered: unknown[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/push_register')) registered.push(r.postDataJSON());
  });
  const sw = await openDevices(page);
  const toggle = sw.getByRole('switch', { name: 'Notifications on this device' });
  const state = () => sw.getAttribute('data-push-state');
  await until('the switch to be ready', async () => (await state()) === 'off');

  // An endpoint the server refuses: its reason is shown, the switch stays off.
  await page.evaluate(() => localStorage.setItem('fake-push-endpoint', 'https://10.0.0.1/push/1'));
  await toggle.click();
  await textIs(sw.getByTestId('push-error'), 'The server refused this browser’s push subscription: endpoint: host is a private address.', 'the refusal');
  assert.equal(await state(), 'off');
  assert.equal(await page.evaluate(() => localStorage.getItem('fake-push-sub')), null, 'the refused subscription is dropped');
  await shot(page, 'push-refused');

  // A public endpoint: registered as the subscription's toJSON() gives it.
  await page.evaluate(() => localStorage.setItem('fake-push-endpoint', 'https://push.example.com/push/2'));
  await toggle.click();
  await until('on', async () => (await state()) === 'on' || `${await state()}`);
  assert.equal(await toggle.isChecked(), true);
  assert.equal((await sw.getByTestId('push-error').innerText()).trim(), '');
  const last = registered[registered.length - 1] as { target: { kind: string; endpoint: string; keys: { p256dh: string; auth: string } } };
  assert.equal(last.target.kind, 'webpush');
  assert.equal(last.target.endpoint, 'https://push.example.com/push/2');
  assert.ok(last.target.keys.p256dh && last.target.keys.auth);
  await shot(page, 'push-on');

  // A server that lost it gets it back at the next start.
  assert.deepEqual(await server.api('push_unregister', {}, token), { removed: true });
  const before = registered.length;
  await page.reload();
  await until('registered again at start', async () => registered.length > before);
  assert.deepEqual(await server.api('push_unregister', {}, token), { removed: true }, 'the server has it again');
  await page.reload();
  const sw2 = await openDevices(page);
  await until('on after the reload', async () => (await sw2.getAttribute('data-push-state')) === 'on');

  // Off: the server forgets the target and the browser unsubscribes.
  await sw2.getByRole('switch', { name: 'Notifications on this device' }).click();
  await until('off', async () => (await sw2.getAttribute('data-push-state')) === 'off');
  assert.deepEqual(await server.api('push_unregister', {}, token), { removed: false });
  assert.equal(await page.evaluate(() => localStorage.getItem('fake-push-sub')), null);

  // Sign-out unsubscribes the browser too.
  await sw2.getByRole('switch', { name: 'Notifications on this device' }).click();
  await until('on again', async () => (await sw2.getAttribute('data-push-state')) === 'on');
  await page.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await until('unsubscribed at sign-out', async () => (await page.evaluate(() => localStorage.getItem('fake-push-sub'))) === null);
  await u.ctx.close();
});

/** The worker's registration id (for deliverPushMessage), from DevTools' ServiceWorker domain. */
async function registrationId(cdp: CDPSession, scope: string): Promise<string> {
  let id = '';
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
    for (const r of e.registrations) if (r.scopeURL === scope && !r.isDeleted) id = r.registrationId;
  });
  await cdp.send('ServiceWorker.enable');
  await until(`a service worker registration for ${scope}`, async () => id !== '');
  return id;
}

/** The running worker (a push starts it again if it was stopped). */
async function runningWorker(ctx: BrowserContext): Promise<Worker> {
  let w: Worker | undefined;
  await until('the service worker to run', async () => !!(w = ctx.serviceWorkers().find((x) => x.url().endsWith('/sw.js'))));
  return w!;
}

type Shown = { tag: string; title: string; body: string; data: unknown };

async function notifications(ctx: BrowserContext): Promise<Shown[]> {
  const w = await runningWorker(ctx);
  return w.evaluate(async () => {
    const reg = (self as unknown as { registration: ServiceWorkerRegistration }).registration;
    return (await reg.getNotifications()).map((n) => ({ tag: n.tag, title: n.title, body: n.body, data: n.data }));
  });
}

test('pushes delivered to the service worker: notifications per conversation, clears, bad payloads, opening a conversation', async () => {
  await server.api('register', { username: 'sol', password: 'password123' });
  const { ctx, page } = await userPage(server, 'tao');
  await startDirect(page, 'sol');
  const conv = Number(await page.locator('.conv-item').first().getAttribute('data-conv'));
  assert.ok(conv > 0);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  const cdp = await ctx.newCDPSession(page);
  const id = await registrationId(cdp, server.base + '/');
  const deliver = (data: string) => cdp.send('ServiceWorker.deliverPushMessage', { origin: server.base, registrationId: id, data });
  const message = (seq: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ type: 'message', conversation_id: conv, seq, unread: seq, ...extra });

  // The app in front shows messages live: no notification.
  await deliver(message(1));
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await notifications(ctx), [], 'no notification while the app is in front');

  // The app closed (no window of it): a notification, generic without previews.
  await page.goto('about:blank');
  await deliver('this is not JSON');
  await deliver('{"type":"message","conversation_id":"x"}');
  await deliver(message(2));
  // Headless Chromium now and then loses a notification the worker showed (showNotification
  // resolved, getNotifications() empty for seconds after; about 1 run in 10): the same push is
  // delivered again while none is listed. One tag per conversation: still one notification.
  await until('a notification', async () => {
    if ((await notifications(ctx)).length === 1) return true;
    await deliver(message(2));
    return false;
  });
  assert.deepEqual(await notifications(ctx), [{ tag: `c${conv}`, title: 'New message', body: 'You have a new message', data: { conv, seq: 2 } }]);

  // With previews, the newer one replaces the older (one tag per conversation).
  await deliver(message(3, { sender: 'sol', preview: 'are you there?' }));
  await until('the notification replaced', async () => (await notifications(ctx))[0]?.title === 'sol');
  assert.deepEqual(await notifications(ctx), [{ tag: `c${conv}`, title: 'sol', body: 'are you there?', data: { conv, seq: 3 } }]);

  // A clear for an earlier seq leaves it; one up to its seq closes it.
  await deliver(JSON.stringify({ type: 'clear', conversation_id: conv, seq: 2, unread: 1 }));
  await deliver(JSON.stringify({ type: 'clear', conversation_id: conv + 1, seq: 9, unread: 1 }));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await notifications(ctx)).length, 1, 'kept by an earlier clear and by another conversation’s');
  await deliver(JSON.stringify({ type: 'clear', conversation_id: conv, seq: 3, unread: 0 }));
  await until('the notification closed', async () => (await notifications(ctx)).length === 0);

  // A clicked notification: the worker tells a window of the app to open the conversation, or opens
  // one at the conversation's deep link.
  await page.goto(server.base + '/');
  await page.getByRole('button', { name: 'New chat' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'sol', exact: true }).count(), 0);
  await page.evaluate((c) => navigator.serviceWorker.dispatchEvent(new MessageEvent('message', { data: { type: 'open', conv: c } })), conv);
  await page.getByRole('heading', { name: 'sol', exact: true }).waitFor();
  await shot(page, 'push-opened-conversation');
  await page.goto('about:blank');
  await page.goto(`${server.base}/#conv=${conv}`);
  await page.getByRole('heading', { name: 'sol', exact: true }).waitFor();
  assert.equal(await page.evaluate(() => location.hash), '', 'the deep link is used once');
  await ctx.close();
});
