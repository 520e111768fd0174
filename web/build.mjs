// Builds the client into dist/ (index.html + content-hashed assets), or with --tests the unit and
// browser tests into build-test/ for node's test runner.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  const outputs = Object.keys(result.metafile.outputs).map((p) => p.split('/').pop());
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
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
  console.log(`web: built dist/index.html, assets/${js}, assets/${css}`);
}
