/**
 * The chronyd feed against a real chronyd (Debian's chrony; `-x`, so this machine's clock is never
 * touched; a private config, command socket, pid file and refclocks log in a temp directory) and the
 * real agent on the simulator, whose oscillator is 200 ms and 20 ppm off with 1 us of PPS jitter: the
 * edges must be mapped back to the host's clock, or chronyd would see 200 ms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { sockChronyd } from '../helpers/chronyd-refclock.ts';
import type { Status } from '../../src/status/status.ts';
import { addon, addonProblem } from '../../src/native/addon.ts';

function agentYaml(dir: string, ntpPort: number, sockPath: string): string {
  return [
    'receiver:', '  source: simulator',
    // The simulator's defaults (200 ms, 20 ppm, 1 us jitter), written out: the test depends on them.
    'simulator:', '  initial_offset_ms: 200', '  frequency_ppm: 20', '  pps_jitter_ns: 1000',
    'control:', '  http:', '    address: 127.0.0.1', '    port: 0', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: ["127.0.0.1"]', `  port: ${ntpPort}`, 'snmp:', '  enabled: false',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`,
    'export:', `  chrony_sock: ${JSON.stringify(sockPath)}`, '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the agent's Status, keeping every sample it reports as sent (edge time -> system minus GPS, ns). */
async function watch(a: RunningAgent, seen: Map<string, number>, until: (s: Status) => boolean | Promise<boolean>, ms: number, what: string): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await a.status();
    const c = s.chronySock;
    if (c.lastEdgeSystemTime !== null && c.lastOffsetNs !== null) seen.set(c.lastEdgeSystemTime, c.lastOffsetNs);
    if (await until(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(c)}`);
    await sleep(300);
  }
}

test('chronyd takes our samples: lists the SOCK source and selects it, its offsets are ours, and the feed resumes when chronyd restarts', async (t) => {
  if (!requirePeers(t, 'chronyd', 'chronyc')) return;
  assert.ok(addon, `the native addon must be built by npm ci (it sends the datagrams): ${addonProblem}`);
  const dir = mkdtempSync(join(tmpdir(), 'chrony-sock-'));
  const chronyd = sockChronyd(dir);
  let agent: RunningAgent | undefined;
  try {
    await chronyd.start();
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, agentYaml(join(dir, 'state'), await freeUdpPort(), chronyd.sockPath));
    agent = await startAgent(cfg);
    const a = agent;
    const seen = new Map<string, number>();

    // chronyd selects the GPS source ('*'): four samples a poll of 4 s, a few polls.
    await watch(a, seen, () => chronyd.source()?.state === '*', 40_000, "chronyd to select GPS ('*')");
    const listed = chronyd.chronyc('sources');
    assert.match(listed, /^#\* GPS /m, `chronyc sources lists the refclock and selects it:\n${listed}`);
    const st = await a.status();
    assert.equal(st.chronySock.connected, true, 'the agent says it is connected');
    assert.equal(st.chronySock.problem, null, 'and can run');
    assert.equal(st.chronySock.timevalBits, addon.timevalBytes === 8 ? 32 : 64, 'the time_t width of this machine\'s headers');

    // Each sample chronyd logged is one the agent sent, with the same offset: chronyd's raw offset is
    // GPS minus system time, the agent's lastOffsetNs system minus GPS (as chronyc shows offsets).
    // Both carry the nanoseconds: the tolerance (2 ns) is the log's rounding.
    const rows = chronyd.samples();
    const rowFor = (edgeIso: string) => {
      const edgeMs = Date.parse(edgeIso);
      const edgeUs = Number(edgeIso.slice(20, 26));
      return rows.find((r) => {
        const ms = Date.parse(`${r.time.slice(0, 19).replace(' ', 'T')}Z`);
        const us = Number(r.time.slice(20, 26));
        // chronyd logs its own (cooked) time of the sample: within microseconds of ours under -x.
        return Math.abs((ms - Math.floor(edgeMs / 1000) * 1000) * 1000 + us - edgeUs) < 100;
      });
    };
    const matched = [...seen].map(([edge, ours]) => ({ edge, ours, row: rowFor(edge) })).filter((m) => m.row !== undefined);
    assert.ok(matched.length >= 5, `at least five of the agent's samples found in chronyd's log (${matched.length} of ${seen.size})`);
    for (const m of matched) {
      const theirs = m.row!.rawOffsetS * 1e9;
      assert.ok(Math.abs(theirs + m.ours) <= 2, `edge ${m.edge}: chronyd's raw offset ${theirs} ns is minus ours (${m.ours} ns)`);
    }
    assert.ok(matched.some((m) => Math.abs(m.ours) > 50), 'the offsets are not all zero (the sign is tested)');
    // What chronyc reports of the source: the mean of the agent's samples, within 5 us (1 us of PPS
    // jitter averaged, and chronyd -x moving its own idea of the clock by a microsecond or two; a
    // feed that sent the oscillator's time would be 200 ms off).
    const mean = [...seen.values()].reduce((x, y) => x + y, 0) / seen.size;
    const src = chronyd.source()!;
    const stats = chronyd.stats()!;
    assert.ok(Math.abs(src.measuredOffsetS * 1e9 - mean) < 5000, `chronyc sources' last measured offset ${src.measuredOffsetS} s vs the agent's mean ${mean} ns`);
    assert.ok(Math.abs(stats.offsetS * 1e9 - mean) < 5000, `chronyc sourcestats' offset ${stats.offsetS} s vs the agent's mean ${mean} ns`);
    t.diagnostic(`matched ${matched.length} of ${seen.size} samples; agent mean ${mean.toFixed(0)} ns; chronyc sources measured ${src.measuredOffsetS} s; sourcestats offset ${stats.offsetS} s, std dev ${stats.stdDevS} s, ${stats.samples} samples`);
    assert.ok(stats.stdDevS < 20e-6, `sourcestats' std dev ${stats.stdDevS} s: the PPS jitter, not the NMEA delay`);

    // chronyd restarts: the feed notices, backs off, and reconnects to the new socket.
    const before = (await a.status()).chronySock;
    await chronyd.stop();
    await watch(a, seen, (s) => !s.chronySock.connected && s.chronySock.sendErrors > before.sendErrors, 10_000, 'the feed to notice chronyd has gone');
    await sleep(2500); // a few samples with nobody there
    const down = (await a.status()).chronySock;
    assert.ok(down.samplesSkipped > before.samplesSkipped, `samples skipped while chronyd is down (${down.samplesSkipped})`);
    assert.ok(down.lastError === 'ECONNREFUSED' || down.lastError === 'ENOENT', `the reason is named (${down.lastError})`);
    await chronyd.start();
    const back = await watch(a, seen, (s) => s.chronySock.connected && s.chronySock.reconnects > before.reconnects, 20_000, 'the feed to reconnect');
    assert.equal(back.chronySock.reconnects, before.reconnects + 1, 'one reconnect');
    assert.ok(a.all().includes('chronyd feed lost its connection'), 'the loss is logged');
    // chronyd receives samples again: its reach register fills, one bit a poll.
    const reach1 = (await watch(a, seen, () => (chronyd.source()?.reach ?? 0) > 0, 20_000, 'reach after the restart'), chronyd.source()!.reach);
    await watch(a, seen, () => (chronyd.source()?.reach ?? 0) > reach1, 20_000, 'reach to grow');
    const sentAfter = (await a.status()).chronySock.samplesSent;
    assert.ok(sentAfter > back.chronySock.samplesSent, 'the agent keeps sending');
    // The same counters on /metrics.
    const [, host, port] = /prometheus-http tcp (\S+):(\d+)/.exec(a.out())!;
    const metrics = await (await fetch(`http://${host}:${port}/metrics`)).text();
    assert.match(metrics, /^stratum1_chrony_feed_connected 1$/m, 'connected on /metrics');
    assert.match(metrics, new RegExp(`^stratum1_chrony_feed_reconnects_total ${before.reconnects + 1}$`, 'm'), 'one reconnect on /metrics');
  } finally {
    await agent?.stop();
    await chronyd.stop();
  }
});

test('without the native addon the feed says it cannot run, in Status and the log, and the discipline runs on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chrony-sock-noaddon-'));
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, agentYaml(join(dir, 'state'), await freeUdpPort(), join(dir, 'chrony.sock')));
  process.env.STRATUM1_NO_NATIVE = '1'; // inherited by the agent process startAgent spawns
  let agent: RunningAgent | undefined;
  try {
    agent = await startAgent(cfg);
  } finally {
    delete process.env.STRATUM1_NO_NATIVE;
  }
  try {
    const s = await agent.waitFor((x) => x.discipline.samplesAccepted >= 3, 30_000, 'samples accepted');
    assert.equal(s.chronySock.enabled, true, 'the feed is configured');
    assert.match(s.chronySock.problem ?? '', /native addon/, `Status names the problem (${s.chronySock.problem})`);
    assert.equal(s.chronySock.connected, false, 'not connected');
    assert.equal(s.chronySock.samplesSent, 0, 'nothing sent');
    assert.match(agent.all(), /chronyd feed cannot run.*native addon/, 'the log says so');
    t.diagnostic(`problem: ${s.chronySock.problem}`);
  } finally {
    await agent.stop();
  }
});
