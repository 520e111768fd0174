// How confabd serves the client (compressed, HEAD, no source maps), and the app shell loading
// without a network from the service worker, with the saved conversation list.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Browser, Page } from 'playwright-core';
import { launch, newUserPage, register, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('assets are served compressed (br, gzip), HEAD is answered, source maps are not published', async () => {
  const index = (await raw('GET', '/')).body.toString();
  const js = /\/assets\/app-[A-Z0-9]+\.js/.exec(index)![0];
  const plain = await raw('GET', js);
  assert.equal(plain.headers['content-encoding'], undefined);
  const br = await raw('GET', js, { 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers['vary'], 'Accept-Encoding');
  assert.ok(br.body.length < plain.body.length / 2, `${br.body.length} vs ${plain.body.length}`);
  assert.deepEqual(brotliDecompressSync(br.body), plain.body);
  const gz = await raw('GET', js, { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gz.body), plain.body);
  const head = await raw('HEAD', '/');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(Number(head.headers['content-length']), (await raw('GET', '/')).body.length);
  assert.equal((await raw('GET', js + '.map')).status, 404);
  // The browser gets them compressed too.
  const sizes = await ana.evaluate(() =>
    performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).map((e) => [(e as PerformanceResourceTiming).encodedBodySize, (e as PerformanceResourceTiming).decodedBodySize]),
  );
  // The app and the small chunk it shares with the lazily loaded code (esbuild's splitting): each
  // arrived compressed, the app to under half.
  assert.ok(sizes.length >= 1 && sizes.every(([encoded, decoded]) => encoded < decoded), JSON.stringify(sizes));
  const app = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
  assert.ok(app[0] < app[1] / 2, JSON.stringify(sizes));
});

test('without a network the app loads from the service worker, with the saved list and the offline banner', async () => {
  await register(ana, 'ana');
  const bo = await server.api<{ token: string }>('register', { username: 'bo', password: 'password123' });
  await startDirect(ana, 'bo');
  const conv = Number(await ana.locator('.conv-item').first().getAttribute('data-conv'));
  await server.api('send', { conv, client_id: 'x1', text: 'see you offline' }, bo.token);
  await textIs(ana.locator('.conv-item .conv-preview'), 'see you offline', 'preview');
  await until('the service worker to control the page', async () => ana.evaluate(() => !!navigator.serviceWorker.controller));
  await until('the list to be saved', async () => ana.evaluate(() => Object.keys(localStorage).some((k) => k.endsWith('.cache') && localStorage.getItem(k)!.includes('see you offline'))));
  await server.stop(); // the server is gone: nothing answers on its port
  await ana.reload();
  await ana.getByRole('button', { name: 'New chat' }).waitFor();
  await textIs(ana.locator('.conv-item .conv-preview'), 'see you offline', 'the saved preview');
  await until('the offline banner', async () => (await ana.locator('.banner').getAttribute('data-status')) === 'offline');
  await textIs(ana.locator('.banner'), /^Offline/, 'banner');
  await shot(ana, 'offline-app-shell');
  await server.start();
  // The app's own backoff may reconnect before the click: then the button is gone (2 runs in 10
  // under load timed out waiting to click it). Otherwise "Retry now" reconnects at once.
  const retry = ana.locator('.banner').getByRole('button', { name: 'Retry now' });
  await until('live again', async () => {
    if ((await ana.locator('.banner').getAttribute('data-status')) === 'live') return true;
    if (await retry.isVisible()) await retry.click({ timeout: 1000 }).catch(() => undefined);
    return false;
  });
});
