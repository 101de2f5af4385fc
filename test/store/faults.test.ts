/**
 * The history store's faults, on the real agent: a full disk (a small tmpfs), a filesystem remounted
 * read-only, a database locked by another process, and a truncated database file. Each time the agent
 * goes on serving time, raises the database_write alarm, retries, and (once the fault is gone) writes
 * what it held back, so the history has no hole. Mounting needs root (CI runs as root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, statSync, truncateSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { startAgent, agentConfig, type RunningAgent } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { mountTmpfs } from '../helpers/mounts.ts';
import { ntpStratum } from '../helpers/ntp.ts';
import type { Status } from '../../src/status/status.ts';



const alarm = (s: Status) => s.alarms.find((a) => a.name === 'database_write')!;

/** The seconds the database holds since `from`, and whether any is missing. */
function holes(path: string, from: number): { count: number; first: number; last: number; missing: number } {
  const db = new Database(path, { readonly: true });
  try {
    const r = db.prepare('SELECT count(*) AS count, min(t) AS first, max(t) AS last FROM samples WHERE t >= ?').get(from) as { count: number; first: number; last: number };
    return { ...r, missing: r.last - r.first + 1 - r.count };
  } finally {
    db.close();
  }
}

async function faultCycle(a: RunningAgent, ntpPort: number, what: string, inject: () => void, remove: () => void, expectError: RegExp, healthyFirst = true): Promise<void> {
  const before = healthyFirst ? await a.waitFor((s) => s.store.healthy && s.store.flushes > 0, 20_000, `healthy history before ${what}`) : await a.status();
  inject();
  const bad = await a.waitFor((s) => alarm(s).severity === 'critical', 20_000, `the database_write alarm (${what})`);
  assert.equal(bad.store.healthy, false);
  assert.match(bad.store.lastError ?? '', expectError, what);
  assert.ok(bad.store.pending > 0, `${what}: samples held back`);
  assert.equal(await ntpStratum(ntpPort), bad.discipline.stratum, `${what}: NTP still served`);
  const flushesBefore = before.store.flushes;
  remove();
  const good = await a.waitFor((s) => s.store.healthy && alarm(s).severity === 'none', 40_000, `recovery from ${what}`);
  assert.ok(good.store.flushes > flushesBefore);
  assert.equal(good.store.dropped, 0, `${what}: nothing dropped`);
  assert.ok(good.events.counts.storeFailed! >= 1 && good.events.counts.storeRecovered! >= 1);
}

test('disk full, read-only filesystem, locked and truncated database: time goes on, the alarm is raised and cleared, no second is lost', async (t) => {
  const dir = mountTmpfs(t, 1024, { prefix: 'store-fault-' });
  if (!dir) return;
  const ntpPort = await freeUdpPort();
  const cfgFile = join(mkdtempSync(join(tmpdir(), 'store-cfg-')), 'agent.yaml');
  writeFileSync(cfgFile, agentConfig(dir, ['127.0.0.1'], ntpPort) + [
    'store:', '  flush_interval_s: 1', '  busy_timeout_ms: 20',
    'alarms:', '  database_write:', '    raise_after_s: 1', '    clear_after_s: 2', '',
  ].join('\n'));
  const path = join(dir, 'history.db');
  let a = await startAgent(cfgFile);
  try {
    const start = (await a.waitFor((s) => s.store.samplesWritten > 3, 20_000, 'first samples')).store;
    assert.equal(start.path, path);
    const t0 = holes(path, 0).first;

    // 1. The disk fills up.
    const filler = join(dir, 'filler');
    await faultCycle(a, ntpPort, 'disk full', () => {
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
      assert.ok(statSync(filler).size > 0);
    }, () => rmSync(filler), /SQLITE_FULL|full/i);

    // 2. Another process holds the database locked.
    const locker = new Database(path);
    await faultCycle(a, ntpPort, 'locked database', () => {
      locker.exec('BEGIN EXCLUSIVE');
    }, () => {
      locker.exec('COMMIT');
      locker.close();
    }, /BUSY|locked/i);

    // After both: every second since the start is in the database.
    const h = holes(path, t0);
    assert.equal(h.missing, 0, `seconds missing between ${h.first} and ${h.last}`);
    assert.ok(h.count >= 8, `${h.count} seconds recorded`);
    await a.stop();

    // 3. The filesystem is read-only when the agent starts (an SD card the kernel remounted read-only
    // after an error; a remount under open files is refused, so the agent starts on it): it runs, the
    // alarm is raised, and when the filesystem is writable again the held-back seconds are written.
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0);
    a = await startAgent(cfgFile);
    const roStart = Math.floor(Date.parse((await a.status()).time) / 1000);
    await faultCycle(a, ntpPort, 'read-only filesystem', () => {}, () => {
      assert.equal(spawnSync('mount', ['-o', 'remount,rw', dir]).status, 0);
    }, /READONLY|read-only|IOERR|CANTOPEN|unable to open/i, false);
    const h2 = holes(path, roStart + 1);
    assert.equal(h2.missing, 0, `seconds missing between ${h2.first} and ${h2.last}`);
    assert.ok(h2.first <= roStart + 2, `the first seconds on the read-only filesystem were kept (${h2.first} vs ${roStart})`);
    await a.stop();

    // 4. The file is truncated while the agent is down: moved aside, a new one started, loudly.
    truncateSync(path, Math.floor(statSync(path).size / 3));
    a = await startAgent(cfgFile);
    const s = await a.waitFor((x) => x.store.flushes > 0, 20_000, 'a new database');
    assert.equal(s.store.movedAside.length, 1);
    assert.match(s.store.movedAside[0]!, /history\.db\.corrupt-\d{8}T\d{6}$/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('history.db.corrupt-')));
    assert.equal(s.events.counts.storeMovedAside, 1);
    assert.match(a.out(), /"level":"error","msg":"history database damaged: moved aside, a new one started"/);
    assert.equal(await ntpStratum(ntpPort), s.discipline.stratum);
  } finally {
    await a.stop();
    spawnSync('umount', ['-l', dir]);
  }
});
