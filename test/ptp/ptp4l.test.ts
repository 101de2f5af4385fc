/**
 * Our grandmaster against linuxptp, in two network namespaces joined by a veth pair: ptp4l as a slave
 * with software timestamps, its servo on but without the right to set the clock both namespaces share
 * (CAP_SYS_TIME dropped with setpriv), and pmc over the network. The simulator drives the discipline
 * through LOCKED, HOLDOVER and back; the clockClass ptp4l sees must follow within an Announce interval.
 * Then hostile datagrams at both ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../helpers/agent.ts';
import { requirePeers } from '../helpers/env.ts';
import { netPair } from '../helpers/netns.ts';
import type { Status } from '../../src/status/status.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pmc's answer parsed into field -> value. */
function fields(out: string): Record<string, string> {
  const f: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (m) f[m[1]!] = m[2]!;
  }
  return f;
}

test('ptp4l selects our grandmaster and reaches SLAVE; pmc reads our data sets; clockClass follows the discipline within an Announce interval; hostile datagrams change nothing', async (t) => {
  if (!requirePeers(t, 'ptp4l', 'pmc', 'setpriv', 'ip')) return;
  const net = netPair('ptp');
  const dir = mkdtempSync(join(tmpdir(), 'ptp-'));
  const ctl = 17000 + (process.pid % 1000);
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, [
    'receiver:', '  source: simulator',
    'simulator:', '  initial_offset_ms: 0', '  frequency_ppm: 0', '  wander_ppb_per_sqrt_s: 0', '  pps_jitter_ns: 0',
    '  faults:', '    - { at_s: 60, kind: pps_lost, duration_s: 45 }',
    'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', '  leap_seconds_file: ""', '  holdover_budget_us: 1',
    'control:', `  http: { address: 127.0.0.1, port: ${ctl} }`, 'prometheus:', '  enabled: false', 'ntp:', '  enabled: false', 'store:', '  enabled: false',
    'ptp:', '  enabled: true', `  interface: ${net.a.dev}`,
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  const uds = join(dir, 'ptp4l.sock');
  writeFileSync(join(dir, 'ptp4l.conf'), ['[global]', 'slaveOnly 1', 'domainNumber 0', 'summary_interval 0', 'logging_level 6', `uds_address ${uds}`, ''].join('\n'));
  const agent = await startAgent(cfg, net.a.ns);
  const ptp4l = spawn('ip', ['netns', 'exec', net.b.ns, 'setpriv', '--bounding-set', '-sys_time', '--inh-caps', '-sys_time',
    'ptp4l', '-i', net.b.dev, '-4', '-S', '-m', '-f', join(dir, 'ptp4l.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  ptp4l.stdout.setEncoding('utf8').on('data', (d: string) => { log += d; });
  ptp4l.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
  const status = (): Status | undefined => {
    const r = net.exec(net.a.ns, [process.execPath, '-e', `fetch("http://127.0.0.1:${ctl}/status").then((r) => r.text()).then((t) => process.stdout.write(t))`], { timeoutMs: 5000 });
    try {
      return JSON.parse(r.stdout) as Status;
    } catch {
      return undefined;
    }
  };
  const seenByPtp4l = (): number | undefined => {
    const r = net.exec(net.b.ns, ['pmc', '-u', '-b', '0', '-s', uds, 'GET PARENT_DATA_SET'], { timeoutMs: 5000 });
    const v = fields(r.stdout)['gm.ClockClass'];
    return v === undefined ? undefined : Number(v);
  };
  try {
    // 1. ptp4l selects us and reaches SLAVE.
    const start = Date.now();
    while (!/UNCALIBRATED to SLAVE/.test(log)) {
      assert.ok(Date.now() - start < 55_000, `ptp4l did not reach SLAVE:\n${log.slice(-2000)}`);
      await sleep(250);
    }
    const st = status()!;
    assert.match(log, new RegExp(`selected best master clock ${st.ptp.clockIdentity!.replace(/\./g, '\\.')}`));
    // 2. pmc over the network reads our data sets, with our values.
    const pmc = (what: string) => fields(net.exec(net.b.ns, ['pmc', '-4', '-i', net.b.dev, '-b', '0', `GET ${what}`]).stdout);
    const dds = pmc('DEFAULT_DATA_SET');
    assert.equal(dds.clockIdentity, st.ptp.clockIdentity);
    assert.equal(dds.priority1, '128');
    assert.equal(Number(dds.clockClass), st.ptp.clockClass);
    assert.equal(dds.twoStepFlag, '1');
    assert.equal(dds.slaveOnly, '0');
    const tp = pmc('TIME_PROPERTIES_DATA_SET');
    assert.equal(tp.currentUtcOffset, '37');
    assert.equal(tp.currentUtcOffsetValid, '0', 'no leap second table: the offset is announced as not valid');
    assert.equal(tp.ptpTimescale, '1');
    assert.equal(tp.timeSource, '0x20');
    const pds = pmc('PORT_DATA_SET');
    assert.equal(pds.portState, 'MASTER');
    assert.equal(pds.delayMechanism, '1');
    assert.equal(pmc('PARENT_DATA_SET').grandmasterIdentity, st.ptp.clockIdentity);
    assert.ok('offsetFromMaster' in pmc('CURRENT_DATA_SET'));

    // 3. The discipline goes LOCKED (6) -> HOLDOVER (7) -> past the 1 us holdover budget, free running
    // (52) -> LOCKED (6) as PPS is lost at 60 s for 45 s: ptp4l's idea of our clockClass follows each
    // change within one Announce interval (2 s), plus the polling period.
    const samples: { t: number; ours?: number; seen?: number; state?: string }[] = [];
    while (Date.now() - start < 150_000) {
      const s = status();
      samples.push({ t: Date.now(), ours: s?.ptp.clockClass ?? undefined, state: s?.discipline.state, seen: seenByPtp4l() });
      const last = samples.at(-1)!;
      if (samples.some((x) => x.state === 'HOLDOVER') && last.state === 'LOCKED' && samples.filter((x) => x.seen === 6 && x.t > (samples.find((y) => y.state === 'HOLDOVER')?.t ?? Infinity)).length > 3) break;
      await sleep(300);
    }
    const changes: { t: number; cls: number }[] = [];
    for (const x of samples) if (x.ours !== undefined && x.ours !== changes.at(-1)?.cls) changes.push({ t: x.t, cls: x.ours });
    const classes = changes.map((c) => c.cls);
    assert.deepEqual(classes, [6, 7, 52, 6], `classes over time: ${classes.join(' -> ')}`);
    for (const c of changes.slice(1)) {
      const seen = samples.find((x) => x.t >= c.t && x.seen === c.cls);
      assert.ok(seen, `ptp4l never saw clockClass ${c.cls}`);
      assert.ok(seen.t - c.t <= 2000 + 1500, `clockClass ${c.cls}: ptp4l saw it ${seen.t - c.t} ms after the agent had it`);
    }
    const s2 = [...log.matchAll(/master offset\s+(-?\d+) s2 freq\s+\S+ path delay\s+(-?\d+)/g)].map((m) => [Math.abs(Number(m[1])), Number(m[2])] as const);
    assert.ok(s2.length >= 20, `${s2.length} locked samples from ptp4l`);
    const sorted = s2.map((x) => x[0]).sort((a, b) => a - b);
    const delays = s2.map((x) => x[1]).sort((a, b) => a - b);
    console.log(`ptp4l as slave of our grandmaster: ${s2.length} samples, |master offset| median ${sorted[sorted.length >> 1]} ns, ` +
      `p99 ${sorted[Math.floor(sorted.length * 0.99)]} ns, max ${sorted.at(-1)} ns; path delay median ${delays[delays.length >> 1]} ns; classes ${classes.join(' -> ')}`);

    // 4. Hostile datagrams at both ports, to the group and to the host: nothing else happens.
    const before = status()!;
    const fuzz = `
      const dgram = require('node:dgram'); const s = dgram.createSocket('udp4');
      let seed = 7; const r = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const msgs = [];
      for (let i = 0; i < 3000; i++) {
        const len = Math.floor(r() * 120);
        const b = Buffer.alloc(len); for (let k = 0; k < len; k++) b[k] = Math.floor(r() * 256);
        if (len > 4 && i % 3 === 0) { b[1] = 2; b[0] = [0, 1, 8, 9, 11, 13][i % 6]; b.writeUInt16BE(Math.floor(r() * 300), 2); }
        msgs.push(b);
      }
      let i = 0;
      const next = () => { if (i >= msgs.length) { s.close(); return; } const port = i % 2 ? 319 : 320; const addr = i % 4 < 2 ? '224.0.1.129' : '${net.a.address}';
        s.send(msgs[i++], port, addr, () => setImmediate(next)); };
      s.bind(0, '${net.b.address}', () => { s.setMulticastInterface('${net.b.address}'); next(); });`;
    const f = net.exec(net.b.ns, [process.execPath, '-e', fuzz], { timeoutMs: 30_000 });
    assert.equal(f.status, 0, f.stderr);
    await sleep(1500);
    const after = status();
    assert.ok(after, 'the agent still answers');
    const bad = (x: Status) => Object.values(x.ptp.malformed).reduce((a, b) => a + b, 0);
    // Half went to the group (counted), half unicast to the host's address (never reaching the
    // grandmaster, which listens on the group address only).
    const counted = bad(after) - bad(before);
    assert.ok(counted >= 1400 && counted <= 1500, `malformed counted: ${counted} (${JSON.stringify(after.ptp.malformed)})`);
    assert.equal(after.ptp.portState, 'MASTER');
    assert.equal(after.agent.pid, before.agent.pid);
    assert.ok((after.ptp.sent.sync ?? 0) > (before.ptp.sent.sync ?? 0));
  } finally {
    ptp4l.kill('SIGTERM');
    await agent.stop();
    net.remove();
  }
});
