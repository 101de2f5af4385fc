/**
 * The system actuator end to end: the real agent and the real native addon steer a kernel clock that
 * exists only inside the agent's process, simulated by an LD_PRELOAD library (clockshim.c, built here)
 * that answers clock_adjtime and the CLOCK_REALTIME reads. The receiver is a pty fed with NMEA, the PPS
 * a sysfs-like assert file, both written by this test from its own truth (the host's clock shifted to a
 * few minutes before a leap second of a hand-made table).
 *
 * The host's clock is safe twice over: the shim never calls the real adjtimex, and the agent runs with
 * CAP_SYS_TIME removed from its bounding set, so without the shim the kernel says EPERM (the second
 * test shows exactly that: a clear refusal and exit 2). The first test also proves the shim was loaded
 * into the agent's process (its pid in the shim's log) before it looks at anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, renameSync, rmSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/env.ts';
import { ptyPair } from '../helpers/socat.ts';
import { rmc, gga, utcParts, type UtcParts } from '../../src/gnss/encode.ts';
import type { Status } from '../../src/status/status.ts';

const BIN = join(ROOT, 'bin/stratum1.js');
const S = 1_000_000_000n;
const DAY = 86_400n * S;
const ntpEra = (unixS: bigint) => unixS + 2_208_988_800n;

function compiler(): string | undefined {
  for (const c of ['cc', 'gcc']) if (spawnSync('sh', ['-c', `command -v ${c}`]).status === 0) return c;
  return undefined;
}

/** The host's CLOCK_REALTIME in ns: a millisecond reading pinned once to the monotonic counter. */
const anchor = (() => {
  const t0 = Date.now();
  let t: number;
  while ((t = Date.now()) === t0);
  return BigInt(t) * 1_000_000n - process.hrtime.bigint();
})();
function hostNs(): bigint {
  return process.hrtime.bigint() + anchor;
}

/** The shim's clock at host time h, from the mapping it last wrote. */
function simAt(stateFile: string, h: bigint): bigint {
  const [baseReal, baseSim, rate] = readFileSync(stateFile, 'utf8').trim().split(' ');
  return BigInt(baseSim!) + BigInt(Math.round(Number(h - BigInt(baseReal!)) * (1 + Number(rate))));
}

function agentYaml(dir: string, device: string, leapFile: string): string {
  return [
    'receiver:', '  source: serial', '  serial:', `    device: ${JSON.stringify(device)}`, '    configure_mtk: false',
    'pps:', '  source: kernel', `  sysfs_root: ${JSON.stringify(join(dir, 'pps'))}`, '  device: pps0', '  poll_ms: 20',
    'discipline:', '  actuator: system', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', '  holdover_after_s: 3', '  relock_after: 3',
    `  leap_seconds_file: ${JSON.stringify(leapFile)}`,
    'ntp:', '  enabled: false',
    'control:', '  http:', '    address: 127.0.0.1', '    port: 0', 'prometheus:', '  port: 0',
    'agent:', `  state_dir: ${JSON.stringify(join(dir, 'state'))}`, '',
  ].join('\n');
}

const requireTools = (t: { skip: (m: string) => void }): string | undefined => {
  const cc = compiler();
  const missing = [!cc && 'a C compiler (cc/gcc)', spawnSync('sh', ['-c', 'command -v socat']).status !== 0 && 'socat',
    spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0 && 'setpriv'].filter(Boolean);
  if (missing.length) {
    const msg = `SKIPPED LOUDLY: the actuator's end-to-end test needs ${missing.join(', ')}`;
    if (process.env.CI) assert.fail(msg);
    t.skip(msg);
    return undefined;
  }
  return cc;
};

function spawnAgent(cfg: string, env: Record<string, string>) {
  // CAP_SYS_TIME out of the bounding set: whatever the shim does, the real clock cannot be set.
  const proc = spawn('setpriv', ['--bounding-set', '-sys_time', process.execPath, BIN, 'run', '--config', cfg], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { proc, out: () => out };
}

test('through the shim, the real agent steers a kernel clock: one step, frequency, STA_UNSYNC only when synchronised, maxerror, STA_INS and the kernel\'s leap second', async (t) => {
  const cc = requireTools(t);
  if (!cc) return;
  const dir = mkdtempSync(join(tmpdir(), 'act-shim-'));
  const shim = join(dir, 'clockshim.so');
  const built = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', shim, join(ROOT, 'test/discipline/clockshim.c'), '-ldl', '-lpthread'], { encoding: 'utf8' });
  assert.equal(built.status, 0, `the shim builds: ${built.stderr}`);
  mkdirSync(join(dir, 'pps', 'pps0'), { recursive: true });
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'proc')); // no other time daemon, whatever else runs on this machine
  const assertFile = join(dir, 'pps', 'pps0', 'assert');
  writeFileSync(assertFile, '0.000000000#0\n');
  writeFileSync(join(dir, 'pps', 'pps0', 'clear'), '0.000000000#0\n');

  // The truth: the host's clock shifted so that it starts 75 s before the midnight M (two days from
  // now: no calendar in this test) that ends with an invented leap second.
  const now0 = hostNs();
  const M = (now0 / DAY + 3n) * DAY;
  const D = M - 75n * S - now0;
  const leapFile = join(dir, 'leap-seconds.list');
  writeFileSync(leapFile, [
    '# hand-made for a test, not IERS data',
    `#@\t${ntpEra(M / S + 180n * 86_400n)}`,
    `${ntpEra(1_435_708_800n)}\t36\t# 1 Jul 2015`,
    `${ntpEra(1_483_228_800n)}\t37\t# 1 Jan 2017`,
    `${ntpEra(M / S)}\t38\t# invented`, '',
  ].join('\n'));
  const pty = await ptyPair(dir);
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentYaml(dir, pty.device, leapFile));
  const logFile = join(dir, 'shim.log');
  const stateFile = join(dir, 'shim.state');
  const agent = spawnAgent(cfg, {
    LD_PRELOAD: shim, SHIM_LOG: logFile, SHIM_STATE: stateFile,
    SHIM_OFFSET_NS: String(D + 150_000_000n), SHIM_FREQ_PPB: '15000', STRATUM1_PROC_ROOT: join(dir, 'proc'),
  });
  const feed = openSync(pty.feed, 'w');
  const seen: { trueS: number; state: string; kernel: Status['discipline']['kernel']; errNs: number }[] = [];
  let statusUrl: string | undefined;
  try {
    // The shim is in the agent's process before anything else is looked at.
    const deadline = Date.now() + 20_000;
    while (!existsSync(logFile) || !existsSync(stateFile)) {
      assert.ok(Date.now() < deadline && agent.proc.exitCode === null, `the shim was not loaded: ${agent.out()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(readFileSync(logFile, 'utf8'), new RegExp(`^shim active pid=${agent.proc.pid}$`, 'm'), 'the shim runs inside the agent\'s process');

    // The receiver and the PPS, second by second of the truth, for 100 s: no PPS from 35 to 45 s
    // before midnight (a holdover), then the leap second.
    let last = -1n;
    let seq = 0;
    const holdFrom = M - 40n * S;
    const holdTo = M - 32n * S;
    for (;;) {
      const truth = hostNs() + D;
      const sec = truth / S;
      if (sec * S >= M + 20n * S) break;
      if (sec !== last && truth - sec * S >= 20_000_000n) {
        last = sec;
        const edgeTrue = sec * S;
        if (!(edgeTrue >= holdFrom && edgeTrue < holdTo)) {
          const stamp = simAt(stateFile, edgeTrue - D);
          seq++;
          writeFileSync(assertFile + '.tmp', `${stamp / S}.${String(stamp % S).padStart(9, '0')}#${seq}\n`);
          renameSync(assertFile + '.tmp', assertFile);
        }
        // The label of the second that began at the edge: 23:59:60 for the inserted one.
        let u: UtcParts;
        if (edgeTrue === M) u = { ...utcParts(M - S), second: 60 };
        else u = utcParts(edgeTrue > M ? edgeTrue - S : edgeTrue);
        const fix = { time: u, valid: true, lat: 52.5, lon: 13.4, altMsl: 40, satellitesUsed: 9, hdop: 0.9, pdop: 1.6, vdop: 1.3, mode: 3 as const };
        setTimeout(() => { try { writeSync(feed, rmc(fix) + gga(fix)); } catch { /* the pty went away */ } }, 250);
        if (!statusUrl) {
          const m = /control-http tcp (\S+):(\d+)/.exec(agent.out());
          if (m) statusUrl = `http://${m[1]}:${m[2]}/status`;
        }
        if (statusUrl) {
          const st = (await (await fetch(statusUrl)).json()) as Status;
          const h = hostNs();
          const utc = h + D - (h + D >= M ? S : 0n);
          seen.push({ trueS: Number(edgeTrue - M) / 1e9, state: st.discipline.state, kernel: st.discipline.kernel, errNs: Number(simAt(stateFile, h) - utc) });
        }
      }
      assert.equal(agent.proc.exitCode, null, `the agent exited: ${agent.out()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    // The simulated kernel clock against the truth (UTC: the truth less the inserted second).
    const hEnd = hostNs();
    const errNs = Number(simAt(stateFile, hEnd) - (hEnd + D - S));
    const final = seen[seen.length - 1]!;
    const log = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('adjtime'));
    const calls = log.map((l) => {
      const m = /modes=0x([0-9a-f]+) freq=(-?\d+) step_ns=(-?\d+) status=0x([0-9a-f]+) maxerror=(-?\d+) esterror=(-?\d+) -> (-?\d+) state=(\d+)/.exec(l)!;
      return { modes: parseInt(m[1]!, 16), freq: Number(m[2]), step: Number(m[3]), status: parseInt(m[4]!, 16), maxerror: Number(m[5]), ret: Number(m[7]), state: Number(m[8]) };
    });
    const report = { calls: calls.length, final, errNs, states: [...new Set(seen.map((x) => x.state))] };
    t.diagnostic(`what the kernel received: ${JSON.stringify(report)}`);
    t.diagnostic(`kernel clock - UTC by second (s from midnight: ns): ${seen.map((x) => `${x.trueS}:${x.errNs}`).join(' ')}`);
    // Steps: one, of the 150 ms the clock started off.
    const steps = calls.filter((c) => c.modes & 0x100);
    assert.equal(steps.length, 1, `one step: ${JSON.stringify(steps)}`);
    assert.ok(Math.abs(steps[0]!.step + 150e6) < 2e6, `the step removed the 150 ms: ${steps[0]!.step} ns`);
    // Frequency: the 15 ppm oscillator cancelled, in scaled ppm.
    const freqs = calls.filter((c) => c.modes & 0x2).map((c) => c.freq);
    assert.ok(freqs.length > 10, `the frequency was steered (${freqs.length} updates)`);
    assert.ok(Math.abs(freqs[freqs.length - 1]! / 65536 + 15) < 0.5, `kernel frequency ${freqs[freqs.length - 1]! / 65536} ppm`);
    assert.ok(!calls.some((c) => c.modes & 0x1 && !(c.modes & 0x100)), 'no ADJ_OFFSET: the kernel PLL is not used');
    // Status bits: unsynchronised first; cleared once LOCKED; STA_INS before midnight.
    const statusWrites = calls.filter((c) => c.modes & 0x10);
    assert.ok(statusWrites[0]!.status & 0x40, 'STA_UNSYNC set at start');
    assert.ok(statusWrites.some((c) => !(c.status & 0x40) && c.maxerror < 1000), 'STA_UNSYNC cleared, with a maxerror under 1 ms');
    assert.ok(statusWrites.some((c) => c.status & 0x10 && c.state === 1), 'STA_INS armed: TIME_INS');
    const locked = seen.filter((x) => x.state === 'LOCKED' && x.trueS < -45);
    assert.ok(locked.length > 0 && locked.every((x) => !x.kernel!.kernelStatus.includes('UNSYNC')), 'LOCKED: the kernel is told it is synchronised');
    const hold = seen.filter((x) => x.state === 'HOLDOVER');
    assert.ok(hold.length > 0, `a holdover was seen (${report.states})`);
    assert.ok(hold.every((x) => !x.kernel!.kernelStatus.includes('UNSYNC')), 'HOLDOVER within budget: still synchronised');
    // The leap second, made by the kernel and booked by the agent; no second step.
    assert.equal(final.kernel!.leapSeconds, 1, 'the kernel inserted the leap second');
    assert.equal(final.kernel!.steps, 1, 'the agent made no step for it');
    assert.equal(final.state, 'LOCKED', 'LOCKED after the leap');
    assert.ok(Math.abs(errNs) < 100_000, `the kernel clock is within 100 us of UTC after the leap: ${errNs} ns`);
    const locked2 = seen.filter((x) => x.state === 'LOCKED' && x.trueS > -60);
    const worst = Math.max(...locked2.map((x) => Math.abs(x.errNs)));
    assert.ok(worst < 100_000, `within 100 us of UTC whenever LOCKED from a minute before midnight, across the leap: worst ${worst} ns`);
  } finally {
    closeSync(feed);
    if (agent.proc.exitCode === null) {
      const gone = new Promise((r) => agent.proc.once('exit', r));
      agent.proc.kill('SIGTERM');
      await gone;
    }
    await pty.stop();
  }
  // At stop the kernel is handed back unsynchronised.
  const lastStatus = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => /modes=0x(14|15|1c|1d|2014)/.test(l)).pop() ?? '';
  assert.match(lastStatus, /status=0x[0-9a-f]*[4-7cdef][0-9a-f]\b/, `STA_UNSYNC at stop: ${lastStatus}`);
  rmSync(dir, { recursive: true, force: true });
});

test('without the shim and without CAP_SYS_TIME the kernel refuses (EPERM): the agent says so and exits 2, and nothing was changed', async (t) => {
  const cc = requireTools(t);
  if (!cc) return;
  const dir = mkdtempSync(join(tmpdir(), 'act-eperm-'));
  mkdirSync(join(dir, 'pps', 'pps0'), { recursive: true });
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'proc'));
  writeFileSync(join(dir, 'pps', 'pps0', 'assert'), '0.000000000#0\n');
  const pty = await ptyPair(dir);
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentYaml(dir, pty.device, ''));
  const agent = spawnAgent(cfg, { STRATUM1_PROC_ROOT: join(dir, 'proc') });
  const code = await new Promise<number | null>((r) => agent.proc.once('exit', (c) => r(c)));
  await pty.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 2, `exit 2: ${agent.out()}`);
  assert.match(agent.out(), /EPERM[^\n]*CAP_SYS_TIME/, 'the refusal names the missing capability');
  assert.doesNotMatch(agent.out(), /\n\s+at /, 'no stack trace');
});
