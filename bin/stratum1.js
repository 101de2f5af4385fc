#!/usr/bin/env node
// The stratum1 command. The agent is written in TypeScript and runs through tsx's loader, so a checkout
// needs no build step: `npm ci` and it runs.
import { register } from 'tsx/esm/api';

// Output piped into `head` and the like: a closed pipe ends the command quietly.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
