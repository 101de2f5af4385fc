/**
 * The serial adapter through a real pty pair (socat) at 9600 8N1: NMEA written at the far end reaches
 * the receiver state; the MTK setup commands come out and their acks are checked; the far end closed
 * and reopened is reported as an outage and the stream resumes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SystemClock } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';
import { Service } from '../../src/service.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { sentence } from '../../src/gnss/encode.ts';
import { requirePeers } from '../helpers/env.ts';
import { ptyPair } from '../helpers/socat.ts';
import type { AgentEvent } from '../../src/status/events.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function nmeaSecond(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const hms = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.000`;
  const date = `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
  return sentence(`GPRMC,${hms},A,4404.1306,N,12118.8515,W,0.03,225.97,${date},,,A`) +
    sentence(`GPGGA,${hms},4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,`) +
    sentence('PGTOP,11,3');
}

test('serial adapter over a socat pty pair: data, MTK acks, outage and resume', async (t) => {
  if (!requirePeers(t, 'socat', 'stty')) return;
  const dir = mkdtempSync(join(tmpdir(), 'pty-'));
  let pair = await ptyPair(dir);
  const cfg = defaultConfig();
  cfg.agent.state_dir = mkdtempSync(join(tmpdir(), 'state-')); // never the checkout's ./var
  cfg.receiver.source = 'serial';
  cfg.receiver.serial.device = pair.device;
  cfg.receiver.serial.reopen_min_ms = 100;
  cfg.receiver.serial.reopen_max_ms = 400;
  cfg.receiver.serial.silence_after_s = 1;
  cfg.ntp.enabled = false;
  cfg.pps.source = 'none';
  const clock = new SystemClock();
  const logs: string[] = [];
  const svc = new Service(cfg, { clock, simulate: false, log: new Logger(clock, { level: 'debug', repeatPerMinute: 100 }, { write: (l) => logs.push(l) }), listen: false });
  const events: AgentEvent[] = [];
  svc.bus.onAny((e) => events.push(e));
  const fromAgent: string[] = [];
  const reader = createReadStream(pair.feed, { encoding: 'latin1' });
  reader.on('data', (d) => fromAgent.push(String(d)));
  reader.on('error', () => {});
  try {
    await svc.start();
    await until(() => events.some((e) => e.type === 'receiverConnected'), 5000, 'the port to open');
    // The port is at 9600 8N1 (raw): ask the tty itself.
    const stty = spawnSync('stty', ['-F', pair.device, '-a'], { encoding: 'utf8' });
    assert.match(stty.stdout, /speed 9600 baud/);
    assert.match(stty.stdout, /\bcs8\b/);
    assert.match(stty.stdout, /-parenb/);
    assert.match(stty.stdout, /-cstopb/);

    // The MTK setup goes out; answer the tracked commands.
    await until(() => fromAgent.join('').includes('$PMTK220,1000'), 5000, 'the MTK commands');
    const sent = fromAgent.join('');
    assert.match(sent, /\$PMTK314,0,1,0,1,1,5,0,0,0,0,0,0,0,0,0,0,0,1,0\*[0-9A-F]{2}\r\n/);
    assert.match(sent, /\$PGCMD,33,1\*[0-9A-F]{2}\r\n/);
    const fd = openSync(pair.feed, 'w');
    writeSync(fd, sentence('PMTK001,314,3') + sentence('PMTK001,220,3') + sentence('PMTK705,AXN_2.31_3339_13101700,5632,PA6H,1.0'));
    for (let i = 0; i < 3; i++) {
      writeSync(fd, nmeaSecond(new Date(Date.UTC(2026, 10, 25, 12, 0, i))));
      await sleep(150);
    }
    await until(() => events.some((e) => e.type === 'receiverConfigured'), 5000, 'the acks');
    const conf = events.find((e) => e.type === 'receiverConfigured');
    assert.deepEqual(conf && conf.type === 'receiverConfigured' ? conf.acked.sort() : [], [220, 314]);
    await until(() => svc.status().gnss.utc === '2026-11-25T12:00:02.000Z', 5000, 'the third second');
    let st = svc.status();
    assert.equal(st.receiver.connected, true);
    assert.equal(st.gnss.antenna, 'external');
    assert.equal(st.receiver.version, 'AXN_2.31_3339_13101700');
    closeSync(fd);

    // The far end goes away: reported once as an outage.
    reader.destroy();
    await pair.stop();
    await until(() => events.some((e) => e.type === 'receiverDisconnected'), 5000, 'the outage to be noticed');
    assert.equal(svc.status().receiver.connected, false);
    await sleep(600); // several reopen attempts fail while the device is gone
    assert.equal(events.filter((e) => e.type === 'receiverDisconnected').length, 1);

    // It comes back at the same path: reopened, and the stream resumes.
    pair = await ptyPair(dir);
    await until(() => events.filter((e) => e.type === 'receiverConnected').length === 2, 5000, 'the reopen');
    const fd2 = openSync(pair.feed, 'w');
    for (let i = 3; i < 6; i++) {
      writeSync(fd2, nmeaSecond(new Date(Date.UTC(2026, 10, 25, 12, 0, i))));
      await sleep(150);
    }
    await until(() => svc.status().gnss.utc === '2026-11-25T12:00:05.000Z', 5000, 'the resumed stream');
    closeSync(fd2);
    st = svc.status();
    assert.equal(st.receiver.outages, 1);
    assert.equal(st.receiver.connected, true);
    const order = events.map((e) => e.type).filter((x) => x.startsWith('receiver') && x !== 'receiverConfigured');
    assert.deepEqual(order.slice(0, 3), ['receiverConnected', 'receiverDisconnected', 'receiverConnected']);
  } finally {
    await svc.stop();
    clock.stop();
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
