// Two tabs of one device stay consistent; devices are listed with a browser/OS name, when each
// was last active and which one is this one, and signed out (after a confirmation).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let tab1: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  tab1 = (await newUserPage(browser, server)).page;
  await server.api('register', { username: 'nia', password: 'password123' });
  await register(tab1, 'max');
  await startDirect(tab1, 'nia');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('two tabs of the same user show the same conversation, each message once', async () => {
  const tab2 = await tab1.context().newPage();
  await tab2.goto(server.base + '/');
  await openConversation(tab2, 'nia'); // signed in already: the tabs share the device
  await sendMessage(tab2, 'from the second tab');
  await sendMessage(tab1, 'from the first tab');
  for (const p of [tab1, tab2]) {
    await bubble(p, 'from the second tab').waitFor();
    await bubble(p, 'from the first tab').waitFor();
    assert.equal(await bubble(p, 'from the second tab').count(), 1);
    assert.equal(await bubble(p, 'from the first tab').count(), 1);
  }
  await tab2.close();
});

test('devices are listed by browser and OS, with last activity and this device marked; signing one out asks first', async () => {
  const other = (await newUserPage(browser, server)).page;
  await other.getByLabel('Username').fill('max');
  await other.getByLabel('Password').fill('password123');
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.getByRole('button', { name: 'New chat' }).waitFor();

  await tab1.getByRole('button', { name: 'Devices' }).click();
  const rows = tab1.getByRole('dialog').locator('.devices li');
  await until('two devices', async () => (await rows.count()) === 2 || `${await rows.count()}`);
  // This device first and marked; every device named after its browser and system.
  await textIs(rows.nth(0), /^Chrome on Linux\s*This device\s*active now/, 'this device');
  await textIs(rows.nth(1), /^Chrome on Linux\s*last active (just now|\d+ min ago)/, 'the other device');
  await shot(tab1, 'devices');
  await rows.nth(1).getByRole('button', { name: 'Sign out' }).click();
  const confirm = tab1.getByRole('dialog').getByTestId('confirm');
  await textIs(confirm.locator('strong'), 'Sign out “Chrome on Linux”?', 'the confirmation');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await confirm.count(), 0);
  assert.doesNotMatch(await rows.nth(1).innerText(), /signed out/);
  await rows.nth(1).getByRole('button', { name: 'Sign out' }).click();
  await confirm.getByRole('button', { name: 'Sign out' }).click();
  await textIs(rows.nth(1), /signed out/, 'the revoked device');
  // The revoked browser is sent back to the sign-in screen with an explanation.
  await textIs(other.locator('.notice'), 'This device was signed out. Sign in again to continue.', 'notice');
});
