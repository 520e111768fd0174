// Browser-test harness: a real confabd (SQLite in a temp dir, a free port via --port-file, the
// built client from web/dist) and Debian's Chromium driven by playwright-core.
import { ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer, Server as NetServer, Socket } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, BrowserContext, chromium, Locator, Page } from 'playwright-core';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const binary = process.env.CONFAB_BINARY ?? resolve(webDir, '..', 'build', 'release', 'src', 'server', 'confabd');
// CONFAB_WEB_ROOT runs the tests against another build (e.g. an older client, to see a new test fail).
export const webRoot = process.env.CONFAB_WEB_ROOT ?? resolve(webDir, 'dist');
export const shotsDir = resolve(webDir, 'test-results', 'screenshots');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Server {
  readonly dir = mkdtempSync(join(tmpdir(), 'confab-web-'));
  port = 0;
  private proc: ChildProcess | null = null;
  private starts = 0;
  log = '';

  /** extraArgs go to confabd after the harness's own (e.g. ['--admin', 'root']). */
  constructor(private readonly extraArgs: string[] = []) {}

  async start(): Promise<void> {
    if (!existsSync(binary)) throw new Error(`confabd not found at ${binary} (build it, or set CONFAB_BINARY)`);
    if (!existsSync(join(webRoot, 'index.html'))) throw new Error(`no built client at ${webRoot} (npm run build)`);
    const portFile = join(this.dir, `port.${++this.starts}`);
    const args = [
      '--listen', `127.0.0.1:${this.port}`,
      '--port-file', portFile,
      '--storage', 'sqlite',
      '--sqlite-path', join(this.dir, 'confab.db'),
      '--web-root', webRoot,
      '--argon2-ops', '1',
      '--argon2-mem-kib', '64',
      '--rate-per-sec', '1000',
      '--rate-burst', '2000',
      '--shutdown-grace-ms', '500',
      '--log-level', 'warn',
      ...this.extraArgs,
    ];
    const p = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (d) => (this.log += d));
    p.stderr!.on('data', (d) => (this.log += d));
    for (let i = 0; i < 200; i++) {
      if (existsSync(portFile)) {
        const text = readFileSync(portFile, 'utf8').trim();
        if (text) {
          this.port = Number(text);
          return;
        }
      }
      if (p.exitCode !== null) throw new Error(`confabd exited with ${p.exitCode}: ${this.log}`);
      await sleep(50);
    }
    throw new Error(`confabd did not start: ${this.log}`);
  }

  /** SIGTERM and wait for the exit (the port stays the same for the next start). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await done;
    this.proc = null;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async api<T = Record<string, unknown>>(op: string, body: Record<string, unknown>, token?: string): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`${this.base}/v1/${op}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const j = await r.json();
    if (r.status !== 200) throw new Error(`${op}: ${JSON.stringify(j)}`);
    return j as T;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launch(): Promise<Browser> {
  const userData = mkdtempSync(join(tmpdir(), 'confab-chromium-'));
  rmSync(userData, { recursive: true, force: true }); // playwright makes its own fresh profile
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    headless: true,
  });
}

export async function newUserPage(browser: Browser, server: Server, viewport = { width: 1100, height: 720 }): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(server.base + '/');
  return { ctx, page };
}

export async function register(page: Page, username: string, password = 'password123'): Promise<void> {
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'New chat' }).waitFor();
}

export async function startDirect(page: Page, other: string): Promise<void> {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByLabel('Find a person').fill(other);
  await page.getByRole('dialog').getByRole('button', { name: other, exact: true }).click();
  await page.getByRole('heading', { name: other, exact: true }).waitFor();
}

export async function openConversation(page: Page, title: string): Promise<void> {
  await page.locator('.conv-item', { has: page.locator('.conv-title', { hasText: new RegExp(`^${title}$`) }) }).click();
  await page.getByRole('heading', { name: title, exact: true }).waitFor();
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** Whether loc's first element is wholly inside the message list's visible area. */
export async function inView(page: Page, loc: Locator): Promise<boolean> {
  if ((await loc.count()) === 0) return false;
  const box = await loc.first().boundingBox();
  const view = await page.locator('.messages').boundingBox();
  return !!box && !!view && box.y >= view.y - 1 && box.y + box.height <= view.y + view.height + 1;
}

/** The message bubble with exactly this text. */
export function bubble(page: Page, text: string) {
  return page.locator('.msg', { has: page.locator('.text', { hasText: new RegExp(`^${escape(text)}$`) }) });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`) });
}

/** A TCP relay between the browser and confabd that can go silent: frozen, it forwards nothing
 *  and accepts nothing, but closes nothing, as when a network is cut without a word. */
export class Relay {
  port = 0;
  private server: NetServer | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly held = new Set<Socket>(); // accepted while frozen
  frozen = false;

  async start(target: () => number): Promise<void> {
    this.server = createServer((client) => {
      if (this.frozen) {
        this.held.add(client); // accepted, never answered
        client.on('error', () => {});
        return;
      }
      const upstream = new Socket();
      upstream.connect(target(), '127.0.0.1');
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const pipe = (from: Socket, to: Socket) =>
        from.on('data', (d) => {
          if (!this.frozen) to.write(d);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Unfreezes; the connections held while frozen are dropped (their bytes were lost). */
  thaw(): void {
    this.frozen = false;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  async stop(): Promise<void> {
    this.thaw();
    await new Promise((r) => this.server?.close(r));
  }
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page as it is; throws listing every serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run({
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) throw new Error(`axe-core on ${what}: ${JSON.stringify(bad)}`);
}

/** Waits until check() is true (polling); fails naming what was awaited and the last value seen. */
export async function until(what: string, check: () => Promise<boolean | string>, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: boolean | string = false;
  while (Date.now() < end) {
    last = await check();
    if (last === true) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for: ${what}${typeof last === 'string' ? ` (last seen: ${last})` : ''}`);
}

/** Waits until the locator's text equals (or matches) want. */
export async function textIs(loc: import('playwright-core').Locator, want: string | RegExp, what = 'text'): Promise<void> {
  await until(`${what} to be ${want}`, async () => {
    // allInnerTexts does not wait: an element that goes between a count and a read (a list
    // re-rendered) would otherwise hold the read until its timeout.
    const t = ((await loc.allInnerTexts())[0] ?? '').trim();
    return (typeof want === 'string' ? t === want : want.test(t)) || `"${t}"`;
  });
}

/**
 * Resizes the page and waits until its layout is still: the message list keeps its place to the
 * bottom after a resize, and a click dispatched while it scrolls lands its press and its release
 * on different elements (no click at all).
 */
export async function resize(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  let last = '';
  let same = 0;
  await until(`the layout at ${size.width}×${size.height} to settle`, async () => {
    const now = await page.evaluate(
      () =>
        new Promise<string>((done) =>
          requestAnimationFrame(() => {
            const list = document.querySelector('.conv .messages');
            done(`${window.innerWidth} ${list?.scrollTop} ${list?.scrollHeight} ${list?.clientHeight}`);
          }),
        ),
    );
    same = now === last && now.startsWith(`${size.width} `) ? same + 1 : 0;
    last = now;
    return same >= 2 || now;
  });
}
