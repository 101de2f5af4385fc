import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
/**
 * The gpsd adapter against a real gpsd, fed by gpsfake on loopback with a capture from the corpus.
 * gpsd flushes its pty when it opens the device (at the first WATCH), so the replay is single-stepped
 * (-i) and stepped only once our client is watching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SystemClock, toIso } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';
import { Service } from '../../src/service.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { parseChk } from '../../src/gnss/gpsd-chk.ts';
import { formatStatus } from '../../src/cli/main.ts';
import type { Epoch } from '../../src/gnss/receiver.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { requirePeers, requireCorpus, CORPUS } from '../helpers/env.ts';
import { freeTcpPort } from '../helpers/ports.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


test('gpsd client against gpsd + gpsfake: every epoch of a capture arrives and matches gpsd\'s own output', async (t) => {
  if (!requirePeers(t, 'gpsd', 'gpsfake') || !requireCorpus(t)) return;
  // A 2020 capture: Debian's gpsd 3.22 moves pre-2017 dates 1024 weeks forward (see shared/NOTES.md).
  const capture = resolve(CORPUS, 'ublox-neo-m9n-nmea.log');
  const chk = parseChk(readFileSync(`${capture}.chk`, 'latin1'));
  const port = await freeTcpPort();
  // Its own process group, so that gpsfake and the gpsd it starts end together.
  const gf = spawn('gpsfake', ['-1', '-q', '-i', '-P', String(port), capture], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
  let gfErr = '';
  gf.stderr.setEncoding('utf8').on('data', (d: string) => { gfErr += d.slice(0, 2000); });
  const cfg = defaultConfig();
  cfg.agent.state_dir = mkdtempSync(join(tmpdir(), 'state-')); // never the checkout's ./var
  cfg.receiver.source = 'gpsd';
  cfg.receiver.gpsd.port = port;
  cfg.receiver.gpsd.reconnect_max_ms = 200;
  cfg.receiver.min_valid_date = '2019-01-01';
  cfg.ntp.enabled = false;
  cfg.pps.source = 'gpsd';
  const clock = new SystemClock();
  const svc = new Service(cfg, { clock, simulate: false, log: new Logger(clock, { level: 'error', repeatPerMinute: 10 }, { write: () => {} }), listen: false });
  const epochs: Epoch[] = [];
  const events: AgentEvent[] = [];
  svc.bus.onAny((e) => events.push(e));
  svc.timing.observe({ output: (o) => { if (o.kind === 'epoch') epochs.push(o.epoch); } });
  try {
    await svc.start();
    const deadline = Date.now() + 15_000;
    while (!svc.status().receiver.connected && Date.now() < deadline) await sleep(50);
    assert.ok(svc.status().receiver.connected, `never connected to gpsfake's gpsd: ${gfErr}`);
    await sleep(1500); // gpsd opens (and flushes) the device after our WATCH
    const lines = readFileSync(capture, 'latin1').split('\n').length;
    for (let i = 0; i < lines + 5; i++) {
      gf.stdin.write('\n');
      await sleep(3);
    }
    const last = chk.epochs.at(-1)!.time;
    const end = Date.now() + 10_000;
    while (svc.status().gnss.utc !== last && Date.now() < end) await sleep(50);
    const st = svc.status();
    assert.equal(st.gnss.utc, last, 'the last epoch arrived');
    assert.equal(st.receiver.source, 'gpsd');
    assert.ok(st.gnss.satellitesInView >= 30, `${st.gnss.satellitesInView} satellites in view`);
    assert.ok(st.gnss.satellitesUsed >= 10, `${st.gnss.satellitesUsed} used`);
    assert.deepEqual(Object.keys(st.gnss.byConstellation).sort(), ['BeiDou', 'GLONASS', 'GPS', 'Galileo', 'SBAS']);
    // Every epoch closed so far (all but the last, which stays open) matches gpsd's .chk.
    const want = new Map(chk.epochs.map((e) => [e.time, e]));
    assert.ok(epochs.length >= chk.epochs.length - 2, `${epochs.length} of ${chk.epochs.length} epochs`);
    for (const e of epochs) {
      const g = want.get(toIso(e.time, 3));
      assert.ok(g, `epoch ${toIso(e.time, 3)} is in the .chk`);
      assert.equal(e.mode, g.mode, `mode at ${g.time}`);
      assert.ok(Math.abs(e.lat! - g.lat!) < 1.1e-9 && Math.abs(e.lon! - g.lon!) < 1.1e-9, `position at ${g.time}`);
    }
    assert.equal(events.filter((e) => e.type === 'fixAcquired').length, 1);
    // The sky, satellite by satellite, as gpsd's last SKY gave it.
    const sats = st.gnss.satellites;
    assert.equal(sats.length, st.gnss.satellitesInView, 'every satellite in view is listed');
    assert.ok(sats.every((s) => Number.isInteger(s.prn) && s.prn > 0), 'each with its PRN');
    assert.ok(sats.some((s) => s.elevationDeg !== null && s.azimuthDeg !== null && s.snrDbHz !== null), 'elevation, azimuth and SNR where gpsd has them');
    assert.equal(sats.filter((s) => s.used).length, st.gnss.satellitesUsed, 'used flags agree with the count used');
    // gpsd itself: its version (as `gpsd -V` says), the device gpsfake made (a pty), and TOFF, the
    // serial time's offset (PPS gpsfake cannot make: tested on recorded lines in gpsd-view.test.ts).
    const g = st.gpsd;
    const version = /(\d+\.\d+(?:\.\d+)?)/.exec(spawnSync('gpsd', ['-V'], { encoding: 'utf8' }).stdout)?.[1];
    assert.equal(g.enabled, true, 'Status gpsd is on');
    assert.equal(g.connected, true, 'connected');
    assert.equal(g.release, version, `gpsd's release as gpsd -V says: ${version}`);
    assert.match(g.protocol ?? '', /^3\.\d+$/, `protocol ${g.protocol}`);
    const dev = g.devices[0];
    assert.ok(dev && /^\/dev\/pts\/\d+$/.test(dev.path), `gpsfake's pty: ${JSON.stringify(g.devices)}`);
    assert.equal(dev.driver, 'NMEA0183', 'driver identified by gpsd');
    assert.ok(dev.bps !== null && dev.bps > 0, `speed ${dev.bps}`);
    // gpsd leaves `activated` out of a DEVICE report for a device it does not count as active, and
    // gpsd 3.22 under gpsfake sent such a report last in about half the runs here (timing): when there
    // is one, it is now.
    assert.ok(dev.activated === null || Math.abs(Date.parse(dev.activated) - Date.now()) < 120_000, `activated just now: ${dev.activated}`);
    assert.ok(g.toff, 'a TOFF report');
    assert.equal(g.toff.device, dev.path, 'TOFF from that device');
    assert.ok(want.has(g.toff.real.replace(/\.0+Z$/, '.000Z')), `TOFF's true time is an epoch of the capture: ${g.toff.real}`);
    assert.equal(g.toff.offsetNs, Number(BigInt(Date.parse(g.toff.clock.slice(0, 19) + 'Z')) * 1_000_000n + BigInt(g.toff.clock.slice(20, 29)) -
      BigInt(Date.parse(g.toff.real.slice(0, 19) + 'Z')) * 1_000_000n), 'offset = clock - real');
    assert.equal(g.pps, null, 'no PPS: gpsfake has no pulse');
    // stratum1 status says the same in one line.
    const line = formatStatus(st).split('\n').find((l) => l.startsWith('gpsd'));
    assert.ok(line?.includes(`gpsd ${version}`) && line.includes(`${dev.path} (NMEA0183, ${dev.bps} bps)`) && /PPS -, TOFF -?\d+\.\d us/.test(line),
      `the status line: ${line}`);
  } finally {
    await svc.stop();
    clock.stop();
    gf.stdin.end();
    const exited = new Promise((r) => (gf.exitCode !== null ? r(null) : gf.once('exit', r)));
    try { process.kill(-gf.pid!, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-gf.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(timer);
  }
});
