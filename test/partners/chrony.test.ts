/**
 * The chronyd partner against a real chronyd (Debian's chrony; always `-x`, so this machine's clock is
 * never touched; a private config, pid file, drift file and Unix command socket in a temp directory,
 * its command port on a free loopback port) that takes its time from the real agent's NTP server (the
 * simulator, on another free loopback port). The agent watches chronyd over UDP (partners.chrony.socket
 * empty; the Unix socket is tested in chrony-stack.test.ts): Status
 * partners.chrony must say what `chronyc -c tracking` and `chronyc -c sources` say; killing chronyd
 * (by its PID) must show as unreachable with the error, and starting it again as a reconnect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chronyd as privateChronyd } from '../helpers/chronyd.ts';
import { join } from 'node:path';
import { startAgent, agentConfig, type RunningAgent } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { formatStatus } from '../../src/cli/main.ts';
import type { Status } from '../../src/status/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** chronyd taking its time from our NTP server, answering chronyc on its cmdport too. */
const ntpClientChronyd = (dir: string, cmdPort: number, ntpPort: number) =>
  privateChronyd('chronyd', dir, [`server 127.0.0.1 port ${ntpPort} iburst minpoll 0 maxpoll 0`, 'port 0'], { cmdPort });

async function waitFor(a: RunningAgent, pred: (s: Status) => boolean, ms: number, what: string): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await a.status();
    if (pred(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.partners.chrony)}`);
    await sleep(250);
  }
}

test('the chronyd partner: Status shows what chronyc shows; a killed chronyd is unreachable, a restarted one reconnects', async (t) => {
  if (!requirePeers(t, 'chronyd', 'chronyc')) return;
  const dir = mkdtempSync(join(tmpdir(), 'partner-chrony-'));
  const cmdPort = await freeUdpPort();
  const ntpPort = await freeUdpPort();
  const chronyd = ntpClientChronyd(dir, cmdPort, ntpPort);
  let agent: RunningAgent | undefined;
  try {
    await chronyd.start();
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, agentConfig(join(dir, 'state'), ['127.0.0.1'], ntpPort) +
      ['snmp:', '  enabled: false', 'partners:', '  chrony:', '    enabled: true', '    socket: ""', '    address: 127.0.0.1', `    port: ${cmdPort}`, '    poll_s: 1',
        'alarms:', '  chrony_unreachable:', '    raise_after_s: 1', '    clear_after_s: 1', ''].join('\n'));
    agent = await startAgent(cfg);
    const a = agent;

    // chronyd selects our NTP server once the agent is locked and serves stratum 1.
    // ... and past its first updates: while chronyd has few samples its root dispersion grows by
    // hundreds of ppm to seconds a second and drops at each update, so a reading taken a moment apart
    // from chronyc's (0.21 s against 0.44 s, at a load average of 10) says nothing; once it is under a
    // millisecond it moves slowly.
    const st = await waitFor(a, (s) => s.partners.chrony.synchronised && s.partners.chrony.sources[0]?.state === '*' &&
      s.partners.chrony.rootDispersionS !== null && s.partners.chrony.rootDispersionS < 1e-3, 60_000,
      'chronyd to select the agent\'s NTP server');
    const c = st.partners.chrony;
    assert.equal(c.enabled, true, 'enabled');
    assert.equal(c.transport, `udp 127.0.0.1:${cmdPort}`, 'asked over UDP');
    assert.match(c.notice ?? '', /no Unix socket configured .*server stats are not available over UDP/, `the socket option's notice: ${c.notice}`);
    assert.equal(c.reachable, true, 'reachable');
    assert.equal(c.lastError, null, 'no error');
    const rule = st.alarms.find((al) => al.name === 'chrony_offset');
    assert.ok(rule !== undefined && typeof rule.current === 'number' && rule.current >= 0 && rule.warning === 100_000, `chrony_offset watches the size of chronyd's system offset: ${JSON.stringify(rule)}`);

    // chronyc -c tracking: ref id, name, stratum, ref time, system time, last offset, rms offset,
    // frequency, residual freq, skew, root delay, root dispersion, update interval, leap status.
    const tr = chronyd.chronyc('-c', 'tracking').trim().split(',');
    assert.equal(c.referenceId, tr[0], 'Reference ID as chronyc shows it');
    assert.equal(c.reference, tr[1], 'the reference: our NTP server\'s address');
    assert.equal(c.reference, '127.0.0.1', 'which is 127.0.0.1');
    assert.equal(c.stratum, Number(tr[2]), 'stratum');
    assert.equal(c.stratum, 2, 'one below our stratum 1');
    assert.equal(c.leapStatus, 'normal', 'leap status');
    assert.equal(tr[13], 'Normal', 'chronyc says Normal too');
    // Taken a moment apart: chronyd's figures move a little between the two questions.
    assert.ok(Math.abs(c.systemOffsetNs! / 1e9 + Number(tr[4])) < 1e-3, `system time offset ${c.systemOffsetNs} ns vs chronyc ${tr[4]} s`);
    assert.ok(Math.abs(c.frequencyPpm! - Number(tr[7])) < 5, `frequency ${c.frequencyPpm} vs chronyc ${tr[7]}`);
    assert.ok(Math.abs(c.rootDelayS! - Number(tr[10])) < 1e-3, `root delay ${c.rootDelayS} vs chronyc ${tr[10]}`);
    // Root dispersion grows by the skew each second between updates, which is large (hundreds of ppm
    // to seconds a second) while chronyd has few samples: the same order of magnitude is all one can ask.
    // chronyd's first updates also shrink it from seconds to microseconds at once: an update between the
    // agent's poll and chronyc's question is no disagreement, so the agent's next poll may answer too.
    const rd = Number(tr[11]);
    const near = (x: number) => x > 0 && x < 2 * rd + 1e-3 && rd < 2 * x + 1e-3;
    const later = near(c.rootDispersionS!) ? c : (await waitFor(a, (x) => x.partners.chrony.polls > st.partners.chrony.polls + 1, 10_000, 'two more polls')).partners.chrony;
    assert.ok(near(later.rootDispersionS!), `root dispersion ${c.rootDispersionS}, then ${later.rootDispersionS}, vs chronyc ${rd}`);

    // chronyc -c sources: mode, state, name, stratum, poll, reach (octal), last rx, offset, measured offset, error.
    const rows = chronyd.chronyc('-c', 'sources').trim().split('\n').map((l) => l.split(','));
    assert.equal(c.sources.length, rows.length, `one source each: ${JSON.stringify(rows)}`);
    const row = rows[0]!;
    const s = c.sources[0]!;
    assert.equal(row[0], '^', 'chronyc: a server');
    assert.equal(s.mode, 'server', 'mode');
    assert.equal(s.state, row[1], 'state mark');
    assert.equal(s.name, row[2], 'name');
    assert.equal(s.address, '127.0.0.1', 'address');
    assert.equal(s.stratum, Number(row[3]), 'stratum');
    assert.equal(s.stratum, 1, 'our stratum');
    assert.equal(s.pollLog2, Number(row[4]), 'poll');
    assert.match(s.reach, /^[0-7]+$/, 'reach in octal');
    assert.ok(Math.abs(parseInt(s.reach, 8) - parseInt(row[5]!, 8)) <= 0o377, 'reach');
    assert.ok(s.lastRxAgeS !== null && s.lastRxAgeS < 10, `last rx ${s.lastRxAgeS}`);
    assert.ok(Math.abs(s.offsetNs / 1e9 - Number(row[7])) < 1e-3, `offset ${s.offsetNs} ns vs chronyc ${row[7]} s`);
    assert.ok(s.errorNs > 0 && Math.abs(s.errorNs / 1e9 - Number(row[9])) < 1e-3, `error ${s.errorNs} ns vs chronyc ${row[9]} s`);
    assert.ok(s.stats !== null && s.stats.samples > 0, `source stats: ${JSON.stringify(s.stats)}`);
    // Server stats are answered only on chronyd's Unix socket: over UDP chronyd says "not authorised".
    assert.equal(c.serverStats, null, 'no server stats over UDP');
    assert.match(c.serverStatsProblem ?? '', /Unix socket/, `why: ${c.serverStatsProblem}`);

    // stratum1 status shows the partner as chronyc would.
    const text = formatStatus(st);
    assert.match(text, new RegExp(`chronyd \\(udp 127\\.0\\.0\\.1:${cmdPort}\\): synchronised`), `status header:\n${text}`);
    assert.match(text, new RegExp(`Reference ID    : ${tr[0]} \\(127\\.0\\.0\\.1\\)`), `tracking block:\n${text}`);
    assert.match(text, /Leap status {5}: Normal/, 'leap status line');
    assert.match(text, /\^\* 127\.0\.0\.1 {21}1 {3}0 /, `sources row in chronyc's columns:\n${text}`);

    // chronyd killed: unreachable, with the error; nothing of its old state shown as current.
    await chronyd.stop();
    const down = await waitFor(a, (x) => !x.partners.chrony.reachable, 10_000, 'the partner to be unreachable');
    assert.match(down.partners.chrony.lastError ?? '', /no reply from chronyd at 127\.0\.0\.1:\d+/, `the error: ${down.partners.chrony.lastError}`);
    assert.equal(down.partners.chrony.synchronised, false, 'not synchronised while unreachable');
    assert.equal(down.partners.chrony.reference, null, 'no stale reference');
    assert.deepEqual(down.partners.chrony.sources, [], 'no stale sources');
    assert.match(formatStatus(down), /chronyd \(udp .*\): UNREACHABLE: no reply/, 'status says unreachable');
    // The alarms: chronyd unreachable raised; its figures unknown, so its other rules say nothing.
    const alarmed = await waitFor(a, (x) => x.alarms.find((al) => al.name === 'chrony_unreachable')?.severity === 'critical', 10_000, 'the chrony_unreachable alarm');
    for (const name of ['chrony_unsynchronised', 'chrony_offset', 'chrony_source_unreachable']) {
      assert.equal(alarmed.alarms.find((al) => al.name === name)?.severity, 'none', `${name} is not raised on an unreachable chronyd`);
    }

    // Started again: reconnected.
    await chronyd.start();
    const back = await waitFor(a, (x) => x.partners.chrony.reachable, 10_000, 'the partner to answer again');
    assert.equal(back.partners.chrony.reconnects, 1, 'one reconnect');
    assert.equal(back.partners.chrony.lastError, null, 'the error cleared');
    assert.ok(back.partners.chrony.failures >= 1, 'the failures counted');
    await waitFor(a, (x) => x.alarms.find((al) => al.name === 'chrony_unreachable')?.severity === 'none', 10_000, 'the chrony_unreachable alarm to clear');
  } catch (e) {
    console.error(`chronyd output:\n${chronyd.output()}\nagent output:\n${agent?.out() ?? ''}`);
    throw e;
  } finally {
    await agent?.stop();
    await chronyd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
