/**
 * Logs under systemd: when standard error is the journal stream (JOURNAL_STREAM names its device and
 * inode), each line carries its syslog priority as sd-daemon reads it (`<4>` warn ...), so
 * `journalctl -p warning` filters, and no `ts` of its own (the journal stamps lines); elsewhere, plain
 * JSON lines with one `ts`. An event's line is stamped with the event's time, not with a second field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, openSync, closeSync, fstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, isJournalStream, PRIORITY } from '../../src/log.ts';
import { SimClock, NS_PER_S } from '../../src/time/index.ts';
import { agentConfig, BIN } from '../helpers/agent.ts';
import { ROOT } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';

test('for the journal: each line starts with its syslog priority (<3> error, <4> warn, <6> info, <7> debug) and has no ts; otherwise one ts, the event\'s own time when given', () => {
  const clock = new SimClock(1_764_072_000n * NS_PER_S);
  const lines: string[] = [];
  const j = new Logger(clock, { level: 'debug', repeatPerMinute: 10, journal: true }, { write: (l) => lines.push(l) }).child({ part: 'x' });
  j.debug('d');
  j.info('i');
  j.warn('w', { n: 1 });
  j.error('e');
  assert.deepEqual(lines.map((l) => l.slice(0, 3)), ['<7>', '<6>', '<4>', '<3>']);
  assert.deepEqual(Object.values(PRIORITY).sort(), [3, 4, 6, 7]);
  for (const l of lines) {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line each');
    const rec = JSON.parse(l.slice(3)) as Record<string, unknown>;
    assert.equal('ts' in rec, false, 'no timestamp of its own under the journal');
    assert.equal(rec.part, 'x', 'a child keeps journal mode and its fields');
  }
  assert.deepEqual(JSON.parse(lines[2]!.slice(3)), { level: 'warn', msg: 'w', part: 'x', n: 1 });

  const plain: string[] = [];
  const p = new Logger(clock, { level: 'info', repeatPerMinute: 10, journal: false }, { write: (l) => plain.push(l) });
  p.warn('now');
  p.log('warn', 'fixLost', { satellitesUsed: 0 }, 1_764_071_990_250_000_000n);
  assert.equal(plain[0]![0], '{', 'no priority prefix off the journal');
  assert.equal((JSON.parse(plain[0]!) as { ts: string }).ts, '2025-11-25T12:00:00.000000Z');
  // An event is stamped with its own time: one timestamp, not ts and at.
  assert.deepEqual(JSON.parse(plain[1]!), { ts: '2025-11-25T11:59:50.250000Z', level: 'warn', msg: 'fixLost', satellitesUsed: 0 });
});

test('isJournalStream: only the descriptor whose device and inode JOURNAL_STREAM names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  const a = openSync(join(dir, 'a'), 'w');
  const b = openSync(join(dir, 'b'), 'w');
  try {
    const st = fstatSync(a, { bigint: true });
    const js = `${st.dev}:${st.ino}`;
    assert.equal(isJournalStream(js, a), true);
    assert.equal(isJournalStream(js, b), false, 'another file: a child whose stderr was redirected');
    assert.equal(isJournalStream(undefined, a), false);
    assert.equal(isJournalStream('', a), false);
    assert.equal(isJournalStream('garbage', a), false);
  } finally {
    closeSync(a);
    closeSync(b);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the agent (an alarm raised as soon as it has a fix: a warning) with standard error on a file, and
 * JOURNAL_STREAM naming that file or not; returns what it wrote there. */
async function runWithStderrFile(journal: boolean): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'journal-run-'));
  try {
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], await freeUdpPort()) + 'alarms:\n  satellites_used: { warning: 64, critical: 1, raise_after_s: 0 }\n');
    const errFile = join(dir, 'stderr');
    const fd = openSync(errFile, 'w');
    const st = fstatSync(fd, { bigint: true });
    const env = { ...process.env, JOURNAL_STREAM: journal ? `${st.dev}:${st.ino}` : `${st.dev}:${st.ino + 1n}` };
    const agent = spawn(process.execPath, [BIN, 'run', '--simulate', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', fd], env });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
    try {
      const deadline = Date.now() + 30_000;
      // Until the alarm is logged.
      while (!/alarmRaised/.test(readFileSync(errFile, 'utf8')) && agent.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      agent.kill('SIGTERM');
    }
    assert.equal(await exited, 0, readFileSync(errFile, 'utf8').slice(-2000));
    return readFileSync(errFile, 'utf8').split('\n').filter((l) => l !== '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the agent under systemd (stderr is the journal stream): every line has a priority journald reads, warnings as <4>, and no ts; with stderr elsewhere, plain JSON with one ts', async () => {
  const j = await runWithStderrFile(true);
  assert.ok(j.length >= 3, `${j.length} lines`);
  for (const l of j) {
    const m = /^<([0-7])>(\{.*\})$/.exec(l);
    assert.ok(m, `a journal line: ${l}`);
    const rec = JSON.parse(m[2]!) as Record<string, unknown>;
    assert.equal(m[1], String(PRIORITY[rec.level as keyof typeof PRIORITY]), `priority of ${l}`);
    assert.equal('ts' in rec, false, `no ts: ${l}`);
    assert.equal('at' in rec, false, `no second timestamp: ${l}`);
  }
  assert.ok(j.some((l) => /^<6>\{.*"msg":"started"/.test(l)), 'started, at info');
  assert.ok(j.some((l) => /^<4>\{.*"msg":"alarmRaised"/.test(l)), `the alarm, at warning: ${j.join('\n')}`);

  const p = await runWithStderrFile(false);
  for (const l of p) {
    assert.ok(l.startsWith('{'), `plain JSON: ${l}`);
    const rec = JSON.parse(l) as Record<string, unknown>;
    assert.match(String(rec.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, `one ts: ${l}`);
    assert.equal('at' in rec, false, `no second timestamp: ${l}`);
  }
});
