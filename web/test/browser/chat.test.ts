// Two people in two browser contexts: chat both ways, typing, delivered and read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
let bo: Page;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  bo = (await newUserPage(browser, server)).page;
  await shot(ana, 'sign-in');
  await register(ana, 'ana');
  await register(bo, 'bo');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('two users chat both ways', async () => {
  await startDirect(ana, 'bo');
  await sendMessage(ana, 'Hi Bo, lunch today?');
  await bubble(ana, 'Hi Bo, lunch today?').waitFor();
  // Bo's list shows the new conversation live, with a preview and an unread badge.
  const item = bo.locator('.conv-item', { hasText: 'ana' });
  await textIs(item.locator('.conv-preview'), 'Hi Bo, lunch today?', "Bo's preview");
  await textIs(item.locator('.badge'), '1', "Bo's unread badge");
  await openConversation(bo, 'ana');
  await bubble(bo, 'Hi Bo, lunch today?').waitFor();
  // The unread marker sits right above the first message Bo had not read.
  const next = await bo.locator('.unread-marker + .msg .text').innerText();
  assert.equal(next, 'Hi Bo, lunch today?');
  await until('the badge to clear once Bo reads', async () => (await item.locator('.badge').count()) === 0);
  await sendMessage(bo, 'Sure, 12:30 at the usual place');
  await bubble(ana, 'Sure, 12:30 at the usual place').waitFor();
  // Each message appears once on each side.
  assert.equal(await bubble(ana, 'Hi Bo, lunch today?').count(), 1);
  assert.equal(await bubble(bo, 'Sure, 12:30 at the usual place').count(), 1);
  // Reply to a message: the quote shows what it answers.
  await bubble(ana, 'Sure, 12:30 at the usual place').getByRole('button', { name: /^Reply to bo/ }).click();
  await sendMessage(ana, 'Perfect');
  await textIs(bubble(bo, 'Perfect').locator('.quote'), 'bo Sure, 12:30 at the usual place', 'reply quote');
  await shot(ana, 'conversation-desktop');
});

test('typing shows and disappears', async () => {
  const box = bo.getByLabel('Message', { exact: true });
  const composerTop = () => ana.getByLabel('Message', { exact: true }).evaluate((el) => el.getBoundingClientRect().top);
  const before = await composerTop();
  await box.pressSequentially('I am writ', { delay: 20 });
  await textIs(ana.getByTestId('typing'), 'bo is typing…', "Ana's typing line");
  assert.equal(await composerTop(), before, 'the typing line does not push the composer');
  await box.fill('');
  await box.dispatchEvent('input');
  await textIs(ana.getByTestId('typing'), '', "Ana's typing line after Bo cleared the input");
});

test('delivered and read states change as the other reads', async () => {
  // Bo looks at another screen: the message reaches Bo's device (delivered) but is not read.
  await bo.getByLabel('Message', { exact: true }).press('Escape'); // closes the conversation
  await until('Bo to close the conversation', async () => (await bo.getByRole('heading', { name: 'ana', exact: true }).count()) === 0);
  await sendMessage(ana, 'Did you get this?');
  const mine = bubble(ana, 'Did you get this?');
  await until('the message to be delivered', async () => (await mine.getAttribute('data-state')) === 'delivered' || `${await mine.getAttribute('data-state')}`);
  await textIs(mine.locator('.state'), 'Delivered', 'state label');
  await openConversation(bo, 'ana');
  await until('the message to be read', async () => (await mine.getAttribute('data-state')) === 'read' || `${await mine.getAttribute('data-state')}`);
  await textIs(mine.locator('.state'), 'Read', 'state label');
});

test('the other user is shown online, then with a last-seen time', async () => {
  await textIs(ana.getByTestId('presence'), 'online', "Bo's presence on Ana's screen");
  await bo.context().close();
  await textIs(ana.getByTestId('presence'), /^last seen/, "Bo's presence after Bo left");
});
