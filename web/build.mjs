// Builds the client into dist/ (index.html + content-hashed assets: the app's module, the chunks
// it imports on demand, its style sheet, + the service worker sw.js, each text file also
// precompressed as .br and .gz for confabd), or with --tests the unit and browser tests into
// build-test/ for node's test runner.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tests = process.argv.includes('--tests');

if (tests) {
  const out = join(here, 'build-test');
  rmSync(out, { recursive: true, force: true });
  const entries = [];
  for (const kind of ['unit', 'browser'])
    for (const f of readdirSync(join(here, 'test', kind)))
      if (f.endsWith('.test.ts')) entries.push(join(here, 'test', kind, f));
  await esbuild.build({
    entryPoints: entries,
    outdir: out,
    outbase: join(here, 'test'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'inline',
    logLevel: 'warning',
  });
} else {
  const dist = join(here, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, 'assets'), { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    outdir: join(dist, 'assets'),
    entryNames: '[name]-[hash]',
    // What the app imports only when it needs it (import(): the mermaid package, for the
    // Message trace's sequence diagram) goes to chunks of its own, loaded on demand.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    minify: !process.argv.includes('--dev'),
    sourcemap: 'linked',
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = result.metafile.outputs;
  const base = (p) => p.split('/').pop();
  // (The chunks of import() have an entryPoint too: the module imported.)
  const entry = Object.keys(outputs).find((p) => p.endsWith('.js') && outputs[p].entryPoint?.endsWith('src/main.tsx'));
  const js = base(entry);
  const css = base(outputs[entry].cssBundle);
  // The chunks the app's module imports statically are part of the app shell; those it imports
  // with import() are fetched when needed (the service worker passes them to the network).
  const eager = new Set();
  const visit = (p) => {
    for (const i of outputs[p].imports)
      if (i.kind === 'import-statement' && !i.external && !eager.has(i.path)) {
        eager.add(i.path);
        visit(i.path);
      }
  };
  visit(entry);
  const chunks = Object.keys(outputs).filter((p) => p !== entry && p.endsWith('.js'));
  const lazy = chunks.filter((p) => !eager.has(p));
  writeFileSync(
    join(dist, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Confab</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<noscript>Confab needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`,
  );
  // The service worker caches the app's files so the app loads without a network; its cache is
  // named by their hash, so a new build replaces the old cache.
  const shell = ['/', `/assets/${js}`, ...[...eager].map((p) => `/assets/${base(p)}`), `/assets/${css}`];
  const version = createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 12);
  // src/sw.ts: the cache of the shell and Web Push notifications (docs/web-push.md).
  await esbuild.build({
    entryPoints: [join(here, 'src', 'sw.ts')],
    outfile: join(dist, 'sw.js'),
    bundle: true,
    minify: !process.argv.includes('--dev'),
    format: 'iife',
    target: ['es2022'],
    define: { __SW_VERSION__: JSON.stringify(version), __SW_SHELL__: JSON.stringify(shell) },
    logLevel: 'warning',
  });
  // Precompressed variants: confabd sends the one the browser accepts (Accept-Encoding).
  const assets = Object.keys(outputs).filter((p) => /\.(js|css)$/.test(p)).map((p) => `assets/${base(p)}`);
  const files = ['index.html', 'sw.js', ...assets];
  for (const f of files) {
    const data = readFileSync(join(dist, f));
    writeFileSync(join(dist, f + '.gz'), gzipSync(data, { level: 9 }));
    writeFileSync(join(dist, f + '.br'), brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  const size = (ps) => ps.reduce((n, p) => n + outputs[p].bytes, 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `web: built dist/index.html, sw.js, assets/${js} (${kb(size([entry, ...eager]))}), assets/${css}` +
      `${lazy.length ? `, ${lazy.length} chunks for import() (${kb(size(lazy))} in all, each loaded only when needed)` : ''} (+ .br, .gz)`,
  );
}
