// Reactions, edits and deletes, as two people see them: a reaction picked on one side shows with
// its count on the other and toggles off; Up arrow edits my last message, "(edited)" opens the
// history; a delete asks first and leaves a tombstone everywhere, also after a reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
let bo: Page;
const errors: string[] = [];

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  bo = (await newUserPage(browser, server)).page;
  for (const p of [ana, bo]) p.on('pageerror', (e) => errors.push(e.message));
  await register(ana, 'ana');
  await register(bo, 'bo');
  await startDirect(ana, 'bo');
  await sendMessage(ana, 'Lunch at noon?');
  await openConversation(bo, 'ana');
  await bubble(bo, 'Lunch at noon?').waitFor();
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

test('a reaction shows with its count on both sides and toggles off', async () => {
  const msg = bubble(bo, 'Lunch at noon?');
  await msg.hover();
  await msg.getByRole('button', { name: /^React to ana/ }).click();
  await bo.getByRole('menuitem', { name: 'React with 👍' }).click();
  const mine = msg.getByRole('button', { name: /^👍 1, including you$/ });
  await mine.waitFor();
  assert.equal(await mine.getAttribute('aria-pressed'), 'true');
  // Ana sees it, not as hers; she adds hers by clicking the count.
  const theirs = bubble(ana, 'Lunch at noon?').locator('.reaction');
  await textIs(theirs, '👍 1', "ana's reaction count");
  assert.equal(await theirs.getAttribute('aria-pressed'), 'false');
  await theirs.click();
  await textIs(bubble(bo, 'Lunch at noon?').locator('.reaction'), '👍 2', "bo's count after ana's");
  await shot(bo, 'reactions');
  // Bo takes his back.
  await msg.locator('.reaction').click();
  await textIs(bubble(ana, 'Lunch at noon?').locator('.reaction'), '👍 1', "ana's count after bo's removal");
  assert.equal(await bubble(ana, 'Lunch at noon?').locator('.reaction').getAttribute('aria-pressed'), 'true');
});

test('Up arrow in an empty composer edits my last message; "(edited)" shows the history', async () => {
  const box = ana.getByLabel('Message', { exact: true });
  await box.click();
  await box.press('ArrowUp');
  await textIs(ana.locator('.composer .editing'), /Editing your message/, 'the edit bar');
  assert.equal(await box.inputValue(), 'Lunch at noon?');
  await box.fill('Lunch at 12:30?');
  await box.press('Enter');
  await bubble(bo, 'Lunch at 12:30?').waitFor();
  await textIs(bubble(bo, 'Lunch at 12:30?').locator('.edited'), '(edited)', 'the edited mark on the other side');
  assert.equal(await bubble(bo, 'Lunch at noon?').count(), 0, 'the old text is gone');
  assert.equal(await bubble(bo, 'Lunch at 12:30?').locator('.reaction').count(), 1, 'reactions survive an edit');
  await bubble(bo, 'Lunch at 12:30?').locator('.edited').click();
  const history = bo.getByRole('dialog').locator('.edits li');
  await until('two versions in the history', async () => (await history.count()) === 2 || String(await history.count()));
  assert.match(await history.nth(0).innerText(), /Lunch at noon\?/);
  assert.match(await history.nth(1).innerText(), /Lunch at 12:30\? \(current\)/);
  await shot(bo, 'edit-history');
  await bo.keyboard.press('Escape');
  // Escape while editing restores the composer without sending.
  await box.press('ArrowUp');
  await box.press('Escape');
  assert.equal(await ana.locator('.composer .editing').count(), 0);
  assert.equal(await box.inputValue(), '');
});

test('a delete asks first, then leaves a tombstone on both sides, also after a reload', async () => {
  await sendMessage(bo, 'oops, wrong chat');
  await bubble(ana, 'oops, wrong chat').waitFor();
  const msg = bubble(bo, 'oops, wrong chat');
  await msg.hover();
  await msg.getByRole('button', { name: /^Delete: oops/ }).click();
  const dialog = bo.getByRole('dialog');
  await textIs(dialog.locator('p strong'), 'Delete this message for everyone?', 'the question');
  // Cancel keeps it.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await bubble(bo, 'oops, wrong chat').count(), 1);
  await msg.hover();
  await msg.getByRole('button', { name: /^Delete: oops/ }).click();
  await bo.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  for (const p of [ana, bo]) await p.locator('.msg.deleted .tombstone', { hasText: 'This message was deleted.' }).waitFor();
  assert.equal(await bubble(ana, 'oops, wrong chat').count(), 0);
  // In a direct chat only the sender deletes: Ana has Delete on hers, not on Bo's.
  await sendMessage(bo, 'see you');
  await bubble(ana, 'see you').waitFor();
  assert.equal(await bubble(ana, 'see you').getByRole('button', { name: /^Delete/ }).count(), 0, "on bo's message: no");
  assert.equal(await bubble(ana, 'Lunch at 12:30?').getByRole('button', { name: /^Delete/ }).count(), 1, 'on her own: yes');
  await ana.reload();
  await openConversation(ana, 'bo');
  await ana.locator('.msg.deleted .tombstone').waitFor();
  assert.equal(await ana.getByText('oops, wrong chat').count(), 0, 'the text is gone after a reload too');
  await textIs(bubble(ana, 'Lunch at 12:30?').locator('.edited'), '(edited)', 'the edit after a reload');
  await shot(ana, 'deleted-tombstone');
  assert.deepEqual(errors, [], 'no uncaught errors');
});
