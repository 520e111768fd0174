// The server restarts while a message is written: it is delivered exactly once after reconnect.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let hal: Page;
let ivy: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  hal = (await newUserPage(browser, server)).page;
  ivy = (await newUserPage(browser, server)).page;
  await register(hal, 'hal');
  await register(ivy, 'ivy');
  await startDirect(hal, 'ivy');
  await sendMessage(hal, 'before the restart');
  await openConversation(ivy, 'hal');
  await bubble(ivy, 'before the restart').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('a message written while the server is down is queued, then delivered exactly once', async () => {
  await server.stop();
  await until('hal to notice the connection is gone', async () => (await hal.locator('.banner').getAttribute('data-status')) === 'offline');
  await textIs(hal.locator('.banner'), /^Offline/, 'banner');
  await sendMessage(hal, 'written while the server was down');
  const mine = bubble(hal, 'written while the server was down');
  await until('the message to wait in the outbox', async () => (await mine.getAttribute('data-state')) === 'sending');
  await textIs(hal.locator('.banner'), /1 message will be sent when the connection returns/, 'banner');
  await shot(hal, 'offline-queue');
  const stored = await hal.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('.outbox')).map((k) => localStorage.getItem(k)));
  assert.equal(stored.length, 1, 'the outbox is persisted');

  await server.start(); // same port and database
  await bubble(ivy, 'written while the server was down').waitFor({ timeout: 40000 });
  await until('the sender to see it committed', async () => {
    const s = await mine.getAttribute('data-state');
    return s === 'sent' || s === 'delivered' || s === 'read' || `${s}`;
  }, 40000);
  await sendMessage(ivy, 'got it');
  await bubble(hal, 'got it').waitFor();
  assert.equal(await bubble(ivy, 'written while the server was down').count(), 1);
  assert.equal(await bubble(hal, 'written while the server was down').count(), 1);
  // The server has it once too: reload ivy's page and read the history afresh.
  await ivy.reload();
  await openConversation(ivy, 'hal');
  await bubble(ivy, 'got it').waitFor();
  assert.equal(await bubble(ivy, 'written while the server was down').count(), 1);
  const left = await hal.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith('.outbox')).length);
  assert.equal(left, 0, 'the outbox is empty');
});
