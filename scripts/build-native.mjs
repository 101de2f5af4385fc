#!/usr/bin/env node
// Builds the small native addon (native/udp_ts.c: kernel receive timestamps for UDP) with node-gyp,
// which npm provides to install scripts. The agent works without it (timestamps then come from the
// event loop, tens to hundreds of microseconds late), so a failed build warns and does not fail the
// install; Status says which timestamps are in use.
import { spawnSync } from 'node:child_process';

if (process.platform !== 'linux') {
  console.warn('stratum1: kernel receive timestamps need Linux; not building the native addon');
  process.exit(0);
}
const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', shell: false });
if (r.status !== 0) {
  console.warn('stratum1: WARNING: the native addon (kernel receive timestamps) did not build; PTP and NTP receive timestamps will come from the event loop');
}
