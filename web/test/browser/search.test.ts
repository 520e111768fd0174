// Search in the browser (protocol 6.5): Ctrl+K and "/" open it, words in any script are found
// with the matched words marked (as text: hostile text stays text), filters narrow, a malformed
// query says what is wrong and where, and a result opens its conversation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, expectAccessible, inView, launch, newUserPage, register, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
const errors: string[] = [];

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  ana.on('pageerror', (e) => errors.push(e.message));
  await register(ana, 'ana');
  const bo = await server.api<{ token: string; user_id: number }>('register', { username: 'bo', password: 'password123' });
  const anaId = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;
  const conv = (await server.api<{ conv: number }>('create_group', { title: 'Trip', members: [anaId] }, bo.token)).conv;
  let n = 0;
  for (const text of ['我们明天在北京见面', 'Café near the station?', 'tickets at https://example.org/t', '<img src=x onerror=alert(1)> café'])
    await server.api('send', { conv, client_id: `s${++n}`, text }, bo.token);
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

async function search(q: string): Promise<void> {
  const box = ana.getByLabel('Search for', { exact: true });
  await box.fill(q);
  await box.press('Enter');
}

test('Ctrl+K opens search; words in any script are found with the matched words marked', async () => {
  await ana.keyboard.press('Control+k');
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  await panel.waitFor();
  // The index follows the event feed: the last message sent is findable once the rest are.
  await until('the messages to be indexed', async () => {
    await search('onerror');
    return (await panel.locator('.search-results li').count()) === 1;
  });
  await search('北京');
  const hit = panel.locator('.search-results li');
  await textIs(hit.locator('mark'), '北京', 'the marked word');
  assert.match(await hit.innerText(), /我们明天在北京见面/);
  await search('cafe');
  await until('two results for cafe', async () => (await hit.count()) === 2);
  assert.deepEqual(await hit.locator('mark').allInnerTexts(), ['café', 'Café'], 'newest first, accents folded');
  // Hostile text is shown as text, never as markup.
  assert.equal(await panel.locator('.search-results img').count(), 0, 'no element from the text');
  assert.match(await hit.first().innerText(), /<img src=x onerror=alert\(1\)>/);
  await expectAccessible(ana, 'the search dialog');
  await shot(ana, 'search-results');
});

test('filters narrow the results; a malformed query says what is wrong and where', async () => {
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  await search('has:link');
  const hit = panel.locator('.search-results li');
  await until('the one message with a link', async () => (await hit.allInnerTexts()).join('|').match(/^[^|]*tickets at[^|]*$/) !== null);
  assert.equal(await hit.locator('mark').count(), 0, 'a filter alone marks no word');
  await search('station -near');
  await textIs(panel.locator('p.muted', { hasText: 'Nothing found' }), 'Nothing found for station -near.', 'the empty result');
  await search('cafe foo:bar');
  await textIs(panel.getByRole('alert'), /unknown filter "foo:" at character 6/, 'the error');
  await search('x from:@nobody');
  await textIs(panel.getByRole('alert'), /no user named nobody/, 'the error for an unknown person');
});

test('results can be sorted by best match', async () => {
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  const bo = await server.api<{ token: string }>('login', { username: 'bo', password: 'password123' });
  const anaId = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;
  const conv = (await server.api<{ conv: number }>('create_group', { title: 'Fruit', members: [anaId] }, bo.token)).conv;
  await server.api('send', { conv, client_id: 'k1', text: 'kiwi kiwi kiwi kiwi' }, bo.token);
  await server.api('send', { conv, client_id: 'k2', text: 'one kiwi among many other words' }, bo.token);
  const hit = panel.locator('.search-results li .snippet');
  await until('both to be indexed', async () => {
    await search('kiwi');
    return (await hit.count()) === 2;
  });
  assert.equal((await hit.allInnerTexts())[0], 'one kiwi among many other words', 'newest first');
  await panel.getByLabel('Sort results').selectOption('relevance');
  await until('the best match to come first', async () => (await hit.allInnerTexts())[0] === 'kiwi kiwi kiwi kiwi');
  await panel.getByLabel('Sort results').selectOption('newest');
});

test('from: and in: complete people and conversations from the keyboard; chips toggle filters; arrows reach results', async () => {
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  const box = ana.getByLabel('Search for', { exact: true });
  await box.fill('');
  await panel.getByRole('button', { name: 'From…' }).click();
  await box.pressSequentially('b');
  const options = panel.locator('#search-filter-options[aria-label="People"] [role=option]');
  await textIs(options.first(), '@bo', 'the first person');
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  await box.press('Enter'); // takes the active option, does not search yet
  assert.equal(await box.inputValue(), 'from:@bo ');
  await box.pressSequentially('in:#Tr');
  await textIs(panel.locator('#search-filter-options[aria-label="Conversations"] [role=option]'), 'Trip', 'the conversation');
  await box.press('Tab');
  assert.equal(await box.inputValue(), 'from:@bo in:#Trip ');
  const link = panel.getByRole('button', { name: 'Has a link' });
  await link.click();
  assert.equal(await link.getAttribute('aria-pressed'), 'true');
  assert.equal(await box.inputValue(), 'from:@bo in:#Trip has:link');
  await box.press('Enter');
  const hit = panel.locator('.search-results li');
  await until('the one link bo sent in Trip', async () => (await hit.allInnerTexts()).length === 1 && /tickets at/.test((await hit.allInnerTexts())[0]));
  await expectAccessible(ana, 'the search dialog with filters');
  await shot(ana, 'search-filters');
  // Escape closes a completion list, not the dialog.
  await box.fill('from:@');
  await box.press('End');
  await box.pressSequentially('a');
  await options.first().waitFor();
  await box.press('Escape');
  await until('the list to close', async () => (await panel.locator('#search-filter-options').count()) === 0);
  assert.equal(await panel.isVisible(), true, 'the dialog stays');
  // The arrow keys go from the box into the results and between them.
  await search('cafe');
  await until('two results', async () => (await hit.count()) === 2);
  await box.press('ArrowDown');
  assert.equal(await hit.nth(0).locator('button').evaluate((el) => el === document.activeElement), true);
  await ana.keyboard.press('ArrowDown');
  assert.equal(await hit.nth(1).locator('button').evaluate((el) => el === document.activeElement), true);
  await ana.keyboard.press('ArrowUp');
  assert.equal(await hit.nth(0).locator('button').evaluate((el) => el === document.activeElement), true);
});

test('"/" opens search too, and a result opens its conversation', async () => {
  await ana.keyboard.press('Escape');
  await ana.getByRole('dialog').waitFor({ state: 'detached' });
  await ana.keyboard.press('/');
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  await panel.waitFor();
  await search('北京');
  await panel.locator('.search-results li button').click();
  await ana.getByRole('heading', { name: 'Trip', exact: true }).waitFor();
  await bubble(ana, '我们明天在北京见面').waitFor();
  assert.deepEqual(errors, [], 'no uncaught errors');
});

test('a result far back in a long conversation opens there, marked, with newer pages below', async () => {
  const bo = await server.api<{ token: string }>('login', { username: 'bo', password: 'password123' });
  const anaId = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}').user_id as number;
  const conv = (await server.api<{ conv: number }>('create_group', { title: 'Long', members: [anaId] }, bo.token)).conv;
  for (let i = 1; i <= 160; i++) await server.api('send', { conv, client_id: `l${i}`, text: i === 20 ? 'the needle is here' : `hay ${i}` }, bo.token);
  await ana.keyboard.press('Control+k');
  const panel = ana.getByRole('dialog', { name: 'Search messages' });
  await until('the last message to be indexed', async () => {
    await search('160');
    return (await panel.locator('.search-results li').count()) === 1;
  });
  await search('needle');
  await panel.locator('.search-results li button').click();
  await ana.getByRole('heading', { name: 'Long', exact: true }).waitFor();
  const found = bubble(ana, 'the needle is here');
  await until('the result to be in view', async () => inView(ana, found));
  assert.equal(await found.evaluate((el) => el === document.activeElement), true, 'the result has the focus');
  assert.equal(await found.evaluate((el) => el.classList.contains('found')), true, 'the result is marked');
  assert.equal(await bubble(ana, 'hay 160').count(), 0, 'the newest page is not loaded');
  await shot(ana, 'search-jump-to-message');
  // Scrolling down pages the newer messages in, in order, up to the latest.
  await until('the latest to be loaded by scrolling down', async () => {
    await ana.locator('.messages').evaluate((el) => (el.scrollTop = el.scrollHeight));
    return (await bubble(ana, 'hay 160').count()) === 1;
  });
  const texts = await ana.locator('.messages .msg .text').allInnerTexts();
  const hay = texts.filter((t) => t.startsWith('hay ')).map((t) => Number(t.slice(4)));
  assert.deepEqual(hay, [...hay].sort((a, b) => a - b), 'in order');
  assert.equal(new Set(hay).size, hay.length, 'no duplicates');
  assert.equal(hay[hay.length - 1], 160);
  assert.deepEqual(errors, [], 'no uncaught errors');
});
