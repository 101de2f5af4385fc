import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/env.ts';

const WRITER = resolve(ROOT, 'test/helpers/store-writer.ts');
const KILLS = 50;
const FLUSH_MS = 20;
const SAMPLE_MS = 2;

/** Runs the writer until a random moment, SIGKILLs it, and returns the last "g" and "f" it printed. */
function runAndKill(path: string, killAfterMs: number): Promise<{ first: number; generated: number; flushed: number }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, ['--import', 'tsx', WRITER, path, String(FLUSH_MS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let first = NaN;
    let generated = NaN;
    let flushed = NaN;
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [k, v] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (k === 'ready') {
          first = Number(v);
          setTimeout(() => p.kill('SIGKILL'), killAfterMs);
        } else if (k === 'g') generated = Number(v);
        else if (k === 'f') flushed = Number(v);
      }
    });
    p.on('exit', (code, sig) => {
      if (sig !== 'SIGKILL') rej(new Error(`writer ended by itself (${code}): ${err}`));
      else res({ first, generated, flushed });
    });
  });
}

test(`SIGKILL during writes, ${KILLS} times: the database opens, passes integrity_check, and loses at most one flush interval`, async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'crash-')), 'history.db');
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const perFlush = FLUSH_MS / SAMPLE_MS;
  let worstLoss = 0;
  let killsMidFlush = 0;
  for (let k = 0; k < KILLS; k++) {
    const r = await runAndKill(path, 60 + Math.floor(rand() * 250));
    const db = new Database(path); // a writable open replays the WAL, as the agent's next start does
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `kill ${k}`);
      const max = db.prepare('SELECT max(t) FROM samples').pluck().get() as number;
      const count = db.prepare('SELECT count(*) FROM samples WHERE t >= ?').pluck().get(r.first) as number;
      // Every flush that returned is there ...
      if (!Number.isNaN(r.flushed)) assert.ok(max >= r.flushed, `kill ${k}: flushed up to ${r.flushed}, database has ${max}`);
      // ... no second is missing in between ...
      assert.equal(count, max - r.first + 1, `kill ${k}: gaps since ${r.first}`);
      // ... and what was lost is at most what one flush interval buffers (plus the sample being added).
      const lost = r.generated - max;
      assert.ok(lost <= perFlush + 2, `kill ${k}: lost ${lost} samples, more than one flush interval (${perFlush})`);
      worstLoss = Math.max(worstLoss, lost);
      if (max > r.flushed) killsMidFlush++;
      const events = db.prepare('SELECT count(*) FROM events WHERE t_ns >= ?').pluck().get(BigInt(r.first) * 1_000_000_000n) as number;
      const expectEvents = Math.floor(max / 10) - Math.floor((r.first - 1) / 10);
      assert.equal(events, expectEvents, `kill ${k}: events and samples committed together`);
    } finally {
      db.close();
    }
  }
  console.log(`crash test: ${KILLS} kills, worst loss ${worstLoss} samples (${perFlush} per flush interval); ${killsMidFlush} kills landed after a commit whose "f" line was not yet printed`);
});

test('the real agent, SIGKILLed 5 times while it runs: its database opens clean each time and keeps all but the last flush interval', async () => {
  const { startAgent, agentConfig } = await import('../helpers/agent.ts');
  const { freeUdpPort } = await import('../helpers/ports.ts');
  const dir = mkdtempSync(join(tmpdir(), 'crash-agent-'));
  const cfg = join(dir, 'agent.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort()) + 'store:\n  flush_interval_s: 1\n');
  const path = join(dir, 'history.db');
  let seed = 4242;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < 5; k++) {
    const a = await startAgent(cfg);
    const st = await a.waitFor((s) => s.store.flushes >= 2, 20_000, 'two flushes');
    const flushedBefore = st.store.samplesWritten;
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 1500)));
    const killedAt = Date.now() / 1000;
    a.proc.kill('SIGKILL');
    await new Promise((r) => a.proc.once('exit', r));
    const db = new Database(path);
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `kill ${k}`);
      const last = db.prepare('SELECT max(t) FROM samples').pluck().get() as number;
      // A sample is labelled with the floor of its second (up to 1 s), the flush runs every 1 s, and a
      // machine busy with the rest of the suite delays timers by up to a second or so: 3.5 s at most,
      // far under the 10 s a default flush interval (or a missed flush) would lose.
      assert.ok(killedAt - last <= 1 + 1 + 1.5, `kill ${k}: the last second kept is ${(killedAt - last).toFixed(1)} s before the kill (flush interval 1 s)`);
      assert.ok((db.prepare('SELECT count(*) FROM samples').pluck().get() as number) >= flushedBefore);
    } finally {
      db.close();
    }
  }
});
