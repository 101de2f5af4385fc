#!/usr/bin/env node
// The stratum1 command. The agent is written in TypeScript. A checkout (src/ beside this file and tsx
// installed, as `npm ci` does) runs the sources through tsx's loader, so it needs no build step and never
// runs a stale build. An installed agent (the Debian package: dist/ and production modules only) runs
// the JavaScript that `npm run build` compiled to dist/. STRATUM1_RUN=dist or =src forces one.
import { existsSync } from 'node:fs';

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

async function fromSource() {
  if (!existsSync(new URL('../src/cli/main.ts', import.meta.url))) return false;
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    return false;
  }
  register();
  return true;
}

const want = process.env.STRATUM1_RUN;
const hasDist = existsSync(new URL('../dist/cli/main.js', import.meta.url));
let entry;
if (want !== 'dist' && await fromSource()) entry = '../src/cli/main.ts';
else if (want !== 'src' && hasDist) entry = '../dist/cli/main.js';
else {
  console.error(want === 'src'
    ? 'stratum1: STRATUM1_RUN=src needs src/ and tsx (npm ci)'
    : 'stratum1: neither the sources with tsx (npm ci) nor a build (npm run build) is here');
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
