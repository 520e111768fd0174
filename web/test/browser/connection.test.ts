// A lost network is noticed within seconds (browser offline events and ping), presence greys
// out, and signing out while offline warns and revokes the device once the server is reachable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { launch, newUserPage, register, Relay, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let relay: Relay;
let browser: Browser;
let ana: Page;
let bo: Page;

before(async () => {
  server = new Server();
  await server.start();
  relay = new Relay();
  await relay.start(() => server.port);
  browser = await launch();
  // Ana reaches the server through the relay (whose network can be cut), Bo directly.
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  ana = await ctx.newPage();
  ana.setDefaultTimeout(15000);
  await ana.goto(relay.base + '/');
  bo = (await newUserPage(browser, server)).page;
  await register(ana, 'ana');
  await register(bo, 'bo');
  await startDirect(ana, 'bo');
});

after(async () => {
  await browser?.close();
  await relay?.stop();
  await server?.dispose();
});

const status = (p: Page) => p.locator('.banner').getAttribute('data-status');

test('a silently cut network is noticed within seconds; presence is no longer shown as online', async () => {
  await textIs(ana.getByTestId('presence'), 'online', "bo's presence");
  await until('ana to be live', async () => (await status(ana)) === 'live');
  assert.equal(await ana.locator('.conv-item .dot.online').count(), 1, 'a green dot in the list while live');
  relay.freeze(); // nothing arrives any more, nothing is closed
  await until('the banner to say offline', async () => (await status(ana)) === 'offline' || `${await status(ana)}`, 15000);
  await textIs(ana.locator('.banner'), /^Offline/, 'banner');
  assert.notEqual((await ana.getByTestId('presence').innerText()).trim(), 'online');
  assert.equal(await ana.locator('.conv-head .dot.online').count(), 0, 'no green dot in the header');
  assert.equal(await ana.locator('.conv-item .dot.online').count(), 0, 'no green dot in the list');
  await shot(ana, 'network-cut');
  relay.thaw();
  await ana.locator('.banner').getByRole('button', { name: 'Retry now' }).click();
  await until('ana to be live again', async () => (await status(ana)) === 'live' || `${await status(ana)}`);
  await textIs(ana.getByTestId('presence'), 'online', "bo's presence after reconnecting");
});

test("the browser's offline event is acted on at once", async () => {
  await ana.context().setOffline(true);
  await until('the banner to say offline', async () => (await status(ana)) === 'offline' || `${await status(ana)}`, 3000);
  await shot(ana, 'browser-offline');
  await ana.context().setOffline(false);
  await until('ana to be live again', async () => (await status(ana)) === 'live' || `${await status(ana)}`);
});

test('signing out offline warns about unsent messages and revokes the device when the network returns', async () => {
  const session = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  const other = await server.api<{ token: string }>('login', { username: 'ana', password: 'password123' });
  const revoked = async () => {
    const r = await server.api<{ devices: { device_id: number; revoked_ts: number | null }[] }>('devices', {}, other.token);
    return r.devices.find((d) => d.device_id === session.device_id)?.revoked_ts != null;
  };
  await ana.context().setOffline(true);
  await sendMessage(ana, 'written offline');
  await ana.getByRole('button', { name: 'Sign out' }).click();
  const confirm = ana.getByRole('dialog').getByTestId('confirm');
  await textIs(confirm, /1 unsent message will be deleted/, 'the warning');
  await textIs(confirm, /You are offline/, 'the explanation');
  await shot(ana, 'sign-out-offline');
  await confirm.getByRole('button', { name: 'Sign out' }).click();
  await textIs(ana.locator('.notice'), /server could not be reached/, 'the notice on the sign-in screen');
  assert.equal(await revoked(), false, 'not revoked while the server is unreachable');
  await ana.context().setOffline(false);
  await until('the device to be revoked once the network is back', revoked);
  assert.equal(await ana.evaluate(() => localStorage.getItem('confab.pendingLogout')), null);
});
