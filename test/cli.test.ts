/**
 * The command line as a user meets it: `stratum1 run` on the simulator (only loopback, unprivileged
 * ports, printed at start) read by `stratum1 status`; check-config refusing a bad file with status 2;
 * `stratum1 replay --check` agreeing with gpsd on every capture of the corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, CORPUS, requireCorpus } from './helpers/env.ts';
import { commandHelp } from '../src/cli/main.ts';
import { configPath } from '../src/cli/common.ts';
import type { Status } from '../src/status/status.ts';

const BIN = resolve(ROOT, 'bin/stratum1.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

test('stratum1 run --simulate prints its loopback endpoints and stratum1 status reads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's1-'));
  const cfg = join(dir, 'c.yaml');
  // Three simulated upstream servers, one 4 s off: the status shows them as chronyc sources would.
  writeFileSync(cfg, 'receiver:\n  source: simulator\nsimulator:\n  ntp_servers: [{ offset_ms: 0 }, { offset_ms: 0 }, { offset_ms: 4000 }]\ncontrol:\n  http:\n    address: 127.0.0.1\n    port: 0\nprometheus:\n  port: 0\nntp:\n  addresses: [127.0.0.1]\n  port: 0\n' +
    `agent:\n  state_dir: ${dir}\n`);
  const child = spawn(process.execPath, [BIN, 'run', '--simulate', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening: .*\n/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const m = /listening: .*control-http tcp (127\.0\.0\.1):(\d+)/.exec(out);
    assert.ok(m, `no listening line in: ${out}\n${err}`);
    assert.ok(Number(m[2]) >= 1024, 'an unprivileged port');
    assert.match(out, /listening: .*ntp udp 127\.0\.0\.1:\d+/);
    const url = `http://${m[1]}:${m[2]}/status`;
    // Let the simulated module acquire its fix and a few pulses.
    await new Promise((r) => setTimeout(r, 4500));
    const js = run(['status', '--url', url, '--json']);
    assert.equal(js.status, 0, js.stderr);
    const st = JSON.parse(js.stdout) as Status;
    assert.equal(st.agent.simulated, true);
    assert.equal(st.receiver.source, 'simulator');
    assert.ok(st.receiver.sentences > 10, `${st.receiver.sentences} sentences`);
    assert.equal(st.gnss.fix, true);
    assert.ok(st.pps.present && st.pps.pulses >= 2, `pps ${JSON.stringify(st.pps)}`);
    for (const l of st.agent.listening) {
      assert.match(l.address, /^(127\.|::1$)/, `${l.service} listens on ${l.address}`);
      assert.ok(l.port >= 1024, `${l.service} on port ${l.port}`);
    }
    // --url takes the control endpoint's base as well as its /status (the base said HTTP 404 before).
    const human = run(['status', '--url', url.replace(/\/status$/, '')]);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^Agent +: /m);
    assert.match(human.stdout, /SIMULATED GPS/);
    assert.match(human.stdout, /^PPS +: simulator: present/m);
    assert.match(human.stdout, /^Receiver +: simulator: connected/m);
    assert.match(human.stdout, /^Samples +: \d+ accepted, \d+ outliers, (1 step|(0|[2-9]|\d\d+) steps), /m);
    assert.match(human.stdout, /^Integrity +: ok \(upstream, pps_count(, leap)?\); learning: position, jamming, satellites; accept_jump never$/m);
    assert.match(human.stdout, /^Upstream servers: 2 of 3 agree; receiver - majority -?\d+(\.\d+)?(us|ms)$/m);
    assert.match(human.stdout, /^ {2}\* sim1 +2 +64 +\d+ +\d+s {2}-?\d/m);
    assert.match(human.stdout, /^ {2}x sim3 +2 +64 +\d+ +\d+s {2}(3\.99\d|4\.00\d)s \[/m);
    // status --watch: the same view redrawn in place (home, clear, a heading, the frame), once per
    // interval; --count ends it (Ctrl-C otherwise).
    const watch = run(['status', '--url', url, '--watch', '--interval', '0.5', '--count', '3']);
    assert.equal(watch.status, 0, watch.stderr);
    const frames = watch.stdout.split('\x1b[H\x1b[2J').slice(1);
    assert.equal(frames.length, 3, `three frames, each after a home-and-clear: ${JSON.stringify(watch.stdout.slice(0, 200))}`);
    for (const fr of frames) {
      assert.match(fr, /^\S+Z {2}every 0\.5 s from http:\/\/127\.0\.0\.1:\d+\/status {2}\(Ctrl-C to stop\)\n\nAgent +: /, 'a heading, then the status');
    }
    // Fresh readings: each heading carries the agent's time of its snapshot (rebuilt every 250 ms).
    const times = frames.map((fr) => /^(\S+Z)/.exec(fr)![1]!);
    assert.ok(times[0]! < times[1]! && times[1]! < times[2]!, `the frames are fresh readings: ${times.join(' ')}`);
    for (const bad of [['--interval', '0'], ['--count', '0'], ['--json']]) {
      const r = run(['status', '--url', url, '--watch', ...bad]);
      assert.equal(r.status, 2, `--watch ${bad.join(' ')} is bad usage: ${r.stderr}`);
      assert.match(r.stderr, /^stratum1: /, 'a sentence, not a stack');
    }
    assert.equal(run(['status', '--url', url, '--count', '2']).status, 2, '--count without --watch is bad usage');
    // stratum1 clients: who uses the server. Three requests from 127.0.0.2 and one from 127.0.0.3
    // (loopback addresses of their own), answered by the agent's NTP server.
    const ntpPort = Number(/ntp udp 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    for (const [from, n] of [['127.0.0.2', 3], ['127.0.0.3', 1]] as const) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, from, () => r()));
      for (let k = 0; k < n; k++) {
        const req = Buffer.alloc(48);
        req[0] = 0x23;
        const answered = new Promise<void>((r) => sock.once('message', () => r()));
        sock.send(req, ntpPort, '127.0.0.1');
        await Promise.race([answered, new Promise((r) => setTimeout(r, 2000))]);
      }
      sock.close();
    }
    const cl = run(['clients', '--url', url, '--json']);
    assert.equal(cl.status, 0, cl.stderr);
    const view = JSON.parse(cl.stdout) as { clients: { address: string; lastMinute: number; lastDay: number; total: number }[]; all: { total: number } };
    const row = (a: string) => view.clients.find((c) => c.address === a);
    assert.deepEqual([row('127.0.0.2')?.total, row('127.0.0.2')?.lastDay, row('127.0.0.3')?.total], [3, 3, 1], `the clients seen: ${cl.stdout}`);
    assert.equal(view.clients[0]!.address, '127.0.0.2', 'the busiest first');
    const clText = run(['clients', '--url', url, '--top', '1']);
    assert.equal(clText.status, 0, clText.stderr);
    assert.match(clText.stdout, /^NTP requests: \d+ in the last minute \(estimate\), \d+ in the last hour, \d+ in the last day, \d+ since start\n/, clText.stdout);
    assert.match(clText.stdout, /\n {2}127\.0\.0\.2 +\d+ +3 +3 +3 /, `one row, the busiest: ${clText.stdout}`);
    assert.doesNotMatch(clText.stdout, /127\.0\.0\.3/, '--top 1 shows one');
    for (const bad of [['--top', '0'], ['--by', 'week']]) {
      const r = run(['clients', '--url', url, ...bad]);
      assert.equal(r.status, 2, `clients ${bad.join(' ')} is bad usage: ${r.stderr}`);
    }
    // The operator's trap actions answer even with SNMP off, and say why nothing was sent.
    const traps = run(['traps', 'test', '--url', url]);
    assert.equal(traps.status, 2, "an action the agent cannot do is an error, exit 2");
    assert.match(traps.stderr, /stratum1: SNMP is not enabled/);
    // Only the actions the parts offer: not the members every JavaScript object has.
    assert.equal((await fetch(`http://${m[1]}:${m[2]}/constructor`, { method: 'POST' })).status, 405);
    // Structured logs: JSON lines on stderr.
    const firstLog = err.split('\n').find((l) => l.startsWith('{'));
    assert.ok(firstLog && JSON.parse(firstLog).level, 'JSON log lines');
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true });
  }
  assert.equal(child.exitCode, 0, err);
});

test('stratum1 status with no agent running fails clearly', () => {
  const r = run(['status', '--url', 'http://127.0.0.1:9/status']);
  assert.equal(r.status, 2, 'an error is exit 2');
  assert.match(r.stderr, /no agent answered at http:\/\/127\.0\.0\.1:9\/status/);
  // Port 9 is one Node's fetch never connects to (as browsers): said so, not 'fetch failed'.
  assert.match(r.stderr, /: fetch will not use this port \(one of those browsers block\): give control\.http\.port another\n$/, 'why, in words');
});

test('stratum1 status --url: something that is no URL is said to be one, with exit 2', () => {
  const r = run(['status', '--url', 'localhost:7323']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--url localhost:7323: (not a URL|the control endpoint speaks http)/);
});

test('check-config: a good file passes, a bad one exits 2 before anything starts', () => {
  const good = run(['check-config', 'config/stratum1.example.yaml']);
  assert.equal(good.status, 0, good.stderr);
  const dir = mkdtempSync(join(tmpdir(), 's1-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'pps:\n  source: gps\n');
    const r = run(['check-config', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /pps\.source: expected one of "kernel", "gpsd", "simulator", "none", found the string "gps"/);
    const started = run(['run', '--config', bad]);
    assert.equal(started.status, 2);
    assert.doesNotMatch(started.stdout, /running/);
    assert.equal(run(['check-config', join(dir, 'missing.yaml')]).status, 2);
    assert.equal(run(['frobnicate']).status, 2);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('stratum1 replay --check agrees with gpsd on every capture of the corpus', (t) => {
  if (!requireCorpus(t)) return;
  const index = JSON.parse(readFileSync(resolve(CORPUS, 'index.json'), 'utf8')) as { file: string }[];
  for (const { file } of index) {
    const log = resolve(CORPUS, file);
    assert.ok(existsSync(`${log}.chk`));
    const r = run(['replay', log, '--check', `${log}.chk`]);
    assert.equal(r.status, 0, `${file}: ${r.stderr}`);
    assert.match(r.stderr, / 0 differences, \d+ deliberate/);
  }
  // The per-epoch output itself: one line per epoch, time first.
  const r = run(['replay', resolve(CORPUS, 'mt3339.log'), '--json']);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { time: string; mode: number; lat: number; uSat: number });
  assert.equal(lines.length, 30);
  assert.equal(lines[0]!.time, '2015-04-13T20:26:40.000Z');
  assert.equal(lines[0]!.mode, 3);
  assert.ok(Math.abs(lines[0]!.lat - 44.068843333) < 1e-9);
});

test('stratum1 run refuses to start, saying why, when PTP is asked for on an interface that does not exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 's1-'));
  const cfg = join(dir, 'c.yaml');
  // Three simulated upstream servers, one 4 s off: the status shows them as chronyc sources would.
  writeFileSync(cfg, 'receiver:\n  source: simulator\nsimulator:\n  ntp_servers: [{ offset_ms: 0 }, { offset_ms: 0 }, { offset_ms: 4000 }]\ncontrol:\n  http:\n    address: 127.0.0.1\n    port: 0\nprometheus:\n  port: 0\nntp:\n  enabled: false\n' +
    `ptp:\n  enabled: true\n  interface: nosuch0\nagent:\n  state_dir: ${dir}\n`);
  const r = run(['run', '--config', cfg]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /could not start.*PTP: cannot serve on interface nosuch0: no network interface \\"nosuch0\\"/);
  rmSync(dir, { recursive: true, force: true });
});

test('stratum1 replay streams: a 27 MB capture replays in a 64 MB heap (it held every line before, and died)', (t) => {
  if (!requireCorpus(t)) return;
  const lines = readFileSync(resolve(CORPUS, 'mt3339.log'), 'latin1').split('\n').filter((l) => l.startsWith('$'));
  const block = `${lines.join('\n')}\n`;
  const dir = mkdtempSync(join(tmpdir(), 's1-replay-'));
  const file = join(dir, 'big.log');
  writeFileSync(file, block.repeat(Math.ceil(27e6 / block.length)));
  try {
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', BIN, 'replay', file], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr.slice(-500));
    const epochs = Math.ceil(27e6 / block.length) * 30;
    assert.match(r.stderr, new RegExp(`^${epochs} epochs, ${epochs / 30 * lines.length} lines \\(0 rejected\\)`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('each command has --help, from the usage text; the configuration is found as the help says', () => {
  const h = run(['status', '--help']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^ {2}stratum1 status \[--config FILE\] \[--url URL\] \[--json\] \[--watch \[--interval S\] \[--count N\]\]\n +show a running agent's state \(--watch: redrawn in place\)\n/);
  assert.match(run(['events', '-h']).stdout, /stratum1 events \[--since 7d\] \[--type T\]/);
  assert.equal(commandHelp('nosuch'), undefined);
  const none = () => false;
  assert.equal(configPath('a.yaml', { STRATUM1_CONFIG: 'b.yaml' }, () => true), 'a.yaml', '--config first');
  assert.equal(configPath(undefined, { STRATUM1_CONFIG: 'b.yaml' }, () => true), 'b.yaml', 'then $STRATUM1_CONFIG');
  assert.equal(configPath(undefined, {}, (p) => p === 'config/stratum1.yaml'), 'config/stratum1.yaml', 'then a checkout\'s');
  assert.equal(configPath(undefined, {}, (p) => p === '/etc/stratum1/stratum1.yaml'), '/etc/stratum1/stratum1.yaml', 'then the installed one');
  assert.equal(configPath(undefined, {}, none), undefined, 'else the defaults');
});
