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

/** Records every state the banner shows from now on: "offline" lasts only until the next attempt
 *  (a fraction of a second at first), so polling alone could miss it. */
async function recordBanner(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as unknown as { __banner: string[] };
    w.__banner = [];
    const b = document.querySelector<HTMLElement>('.banner')!;
    const note = () => {
      const v = `${b.getAttribute('data-status')}: ${b.innerText}`;
      if (w.__banner[w.__banner.length - 1] !== v) w.__banner.push(v);
    };
    new MutationObserver(note).observe(b, { attributes: true, childList: true, subtree: true, characterData: true });
  });
}
const banners = (p: Page) => p.evaluate(() => (window as unknown as { __banner: string[] }).__banner);

test('a silently cut network is noticed within seconds; presence is no longer shown as online', async () => {
  await textIs(ana.getByTestId('presence'), 'online', "bo's presence");
  await until('ana to be live', async () => (await status(ana)) === 'live');
  assert.equal(await ana.locator('.conv-item .dot.online').count(), 1, 'a green dot in the list while live');
  await recordBanner(ana);
  relay.freeze(); // nothing arrives any more, nothing is closed
  await until('the banner to say offline', async () => (await banners(ana)).some((b) => b.startsWith('offline: Offline')) || JSON.stringify(await banners(ana)), 15000);
  await shot(ana, 'network-cut');
  // Not live any more (offline, or trying again): presence is not claimed.
  assert.notEqual(await status(ana), 'live');
  assert.notEqual((await ana.getByTestId('presence').innerText()).trim(), 'online');
  assert.equal(await ana.locator('.conv-head .dot.online').count(), 0, 'no green dot in the header');
  assert.equal(await ana.locator('.conv-item .dot.online').count(), 0, 'no green dot in the list');
  // The next attempt hangs unanswered on the cut network: it is given up and tried again, not
  // left "Connecting…" for good.
  await until(
    'an unanswered attempt to be given up',
    async () => {
      const b = await banners(ana);
      const i = b.findIndex((x) => x.startsWith('connecting'));
      return (i >= 0 && b.slice(i).some((x) => x.startsWith('offline'))) || JSON.stringify(b);
    },
    15000,
  );
  relay.thaw();
  await until('ana to be live again', async () => {
    const st = await status(ana);
    if (st === 'offline') await ana.locator('.banner').getByRole('button', { name: 'Retry now' }).click({ timeout: 1000 }).catch(() => {});
    return st === 'live' || `${st}`;
  });
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
  // The server revokes before its answer reaches the page, which then forgets the token.
  await until('the kept token to be dropped', async () => (await ana.evaluate(() => localStorage.getItem('confab.pendingLogout'))) === null);
});
