#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json; the sources import with .ts
// extensions, which rewriteRelativeImportExtensions turns into .js), then copies the files of src/
// that are not TypeScript (src/store/worker.js, loaded by URL at run time) beside the compiled ones.
// dist/ mirrors src/, so paths relative to a module (../package.json, ../../build/Release) hold in both.
// `--out DIR` compiles to DIR instead (the tests do, so they never touch the checkout's dist/).
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const outAt = process.argv.indexOf('--out');
const dist = outAt >= 0 ? resolve(process.argv[outAt + 1]) : join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

let copied = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (!name.endsWith('.ts')) {
      cpSync(p, join(dist, relative(src, p)));
      copied++;
    }
  }
}
walk(src);
console.log(`build: ${relative(process.cwd(), dist) || '.'} compiled, ${copied} other file(s) copied from src/`);
