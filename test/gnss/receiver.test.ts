/** Cases for the receiver's time and fix rules: hand-made (marked as such), and one from a capture of the corpus. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, FixMode, type ReceiverOutput } from '../../src/gnss/receiver.ts';
import { parseSentence } from '../../src/gnss/nmea.ts';
import { sentence } from '../../src/gnss/encode.ts';
import { GnssMonitor } from '../../src/gnss/monitor.ts';
import { toIso, NS_PER_S, fromDate } from '../../src/time/index.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { replayCapture } from '../../src/gnss/replay.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, requireCorpus } from '../helpers/env.ts';

function feed(rx: Receiver, bodies: string[], t0 = 0n): ReceiverOutput[] {
  const out: ReceiverOutput[] = [];
  bodies.forEach((b, i) => {
    const p = parseSentence(sentence(b));
    if (!p.ok) assert.fail(`${b}: ${p.error.detail}`);
    out.push(...rx.apply(p.sentence, t0 + BigInt(i) * 100_000_000n));
  });
  return out;
}

test('an RMC with status V gives no time; GGA time waits for a date; ZDA gives time without a fix', () => {
  const rx = new Receiver();
  feed(rx, ['GPRMC,120000.00,V,,,,,,,251126,,,N']);
  assert.equal(rx.state.utc, undefined);
  feed(rx, ['GPGGA,120001.00,4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,']);
  assert.equal(rx.state.utc, undefined, 'GGA alone has no date');
  feed(rx, ['GPZDA,120002.00,25,11,2026,,']);
  assert.equal(toIso(rx.state.utc!), '2026-11-25T12:00:02Z');
  feed(rx, ['GPGGA,120003.00,4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,']);
  assert.equal(toIso(rx.state.utc!), '2026-11-25T12:00:03Z', 'GGA time once a date is known');
  assert.equal(rx.state.mode, FixMode.Fix3D);
});

test('a week-rollover date (1999-08-22) is refused and flagged, and gives no time', () => {
  const rx = new Receiver({ minValidDate: fromDate(new Date('2026-01-01T00:00:00Z')) });
  const out = feed(rx, ['GPRMC,120000.00,A,4404.1306,N,12118.8515,W,0.0,0.0,220899,,,A', 'GPZDA,120000.00,22,08,1999,,']);
  assert.equal(rx.state.utc, undefined);
  assert.deepEqual(out.filter((o) => o.kind === 'dateRejected').map((o) => o.kind === 'dateRejected' && o.date), ['1999-08-22', '1999-08-22']);
  assert.equal(rx.state.counters.rejectedDates, 2);
  assert.equal(rx.state.lastRejectedDate, '1999-08-22');
});

test('a GGA repeating its timestamp (receiver lost lock) means no fix', () => {
  const rx = new Receiver();
  feed(rx, ['GPZDA,120000.00,25,11,2026,,', 'GPGGA,120000.00,4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,']);
  assert.equal(rx.state.mode, FixMode.Fix3D);
  feed(rx, ['GPGGA,120000.00,4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,']);
  assert.equal(rx.state.mode, FixMode.NoFix);
});

test('a leap second label 23:59:60 is its own epoch, distinct from the next minute', () => {
  const rx = new Receiver();
  const out = feed(rx, [
    'GPZDA,235959.00,31,12,2016,,', 'GPZDA,235960.00,31,12,2016,,', 'GPZDA,000000.00,01,01,2017,,', 'GPZDA,000001.00,01,01,2017,,',
  ]);
  const epochs = out.filter((o) => o.kind === 'epoch').map((o) => (o.kind === 'epoch' ? `${toIso(o.epoch.time)}${o.epoch.leapSecond ? ' leap' : ''}` : ''));
  // POSIX time has no 23:59:60: it shares the POSIX time of the 00:00:00 after it, and is marked as a
  // leap second, so the two remain distinct epochs (the last one stays open).
  assert.deepEqual(epochs, ['2016-12-31T23:59:59Z', '2017-01-01T00:00:00Z leap', '2017-01-01T00:00:00Z']);
  assert.equal(rx.state.utcLeapSecond, false);
});

test('the monitor decides fix lost when the fix goes stale, once, and antenna faults by PGTOP', () => {
  const events: AgentEvent[] = [];
  const m = new GnssMonitor({ fixLostAfterS: 3, silenceAfterS: 2, externalAntenna: true, minValidDate: 0n }, (e) => events.push(e));
  m.connectedTo('test', 0n);
  const t0 = fromDate(new Date('2026-11-25T12:00:00Z'));
  for (let i = 0; i < 5; i++) {
    const s = String(i).padStart(2, '0');
    m.onBytes(sentence(`GPRMC,1200${s}.00,A,4404.1306,N,12118.8515,W,0.0,0.0,251126,,,A`) +
      sentence(`GPGGA,1200${s}.00,4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,`) + sentence('PGTOP,11,3'), t0 + BigInt(i) * NS_PER_S);
  }
  assert.deepEqual(events.map((e) => e.type), ['receiverConnected', 'fixAcquired']);
  // Nothing more arrives: silent after 2 s, fix lost after 3 s, each once.
  for (let k = 1; k <= 20; k++) m.tick(t0 + 4n * NS_PER_S + BigInt(k) * 250_000_000n);
  assert.deepEqual(events.map((e) => e.type), ['receiverConnected', 'fixAcquired', 'receiverSilent', 'fixLost']);
  const snap = m.snapshot(t0 + 10n * NS_PER_S);
  assert.equal(snap.fix, false);
  assert.ok(snap.fixAgeS! > 5);
  // The antenna falls back to the internal patch: a fault when an external one is expected.
  m.onBytes(sentence('PGTOP,11,2'), t0 + 11n * NS_PER_S);
  m.onBytes(sentence('PGTOP,11,2'), t0 + 12n * NS_PER_S);
  m.onBytes(sentence('PGTOP,11,3'), t0 + 13n * NS_PER_S);
  assert.deepEqual(events.map((e) => e.type).slice(4), ['receiverResumed', 'antennaFault', 'antennaOk']);
});

/** The epochs' labels (ISO, '60' marking a leap second) of a replayed capture. */
const labels = (text: string) => replayCapture(text, { minValidDate: fromDate(new Date('2010-01-01T00:00:00Z')) })
  .epochs.map((e) => toIso(e.time).slice(0, 19) + (e.leapSecond ? ' leap' : ''));

test('one RMC dated a day ahead (mt3339 capture) mislabels its own second and at most the next, never the rest of the day', (t) => {
  if (!requireCorpus(t)) return;
  const lines = readFileSync(join(CORPUS, 'mt3339.log'), 'latin1').split('\n');
  const clean = labels(lines.join('\n'));
  // The fifth RMC of the capture (13 April 2015) re-dated 14 April, its checksum recomputed.
  const idx = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('$GPRMC'))[4]![1];
  const fields = lines[idx]!.slice(1, lines[idx]!.indexOf('*')).split(',');
  assert.equal(fields[9], '130415');
  fields[9] = '140415';
  const bad = [...lines];
  bad[idx] = sentence(fields.join(','));
  const got = labels(bad.join('\n'));
  const wrong = got.filter((l) => l.startsWith('2015-04-14'));
  // The bad RMC's own second, and the GGA after it (time of day only, so it carries the last date the
  // receiver sent) are on the wrong day; the next dated sentence puts every later label back.
  assert.ok(wrong.length >= 1 && wrong.length <= 2, `${wrong.length} epochs on the wrong day: ${wrong.join(' ')}`);
  const lastWrong = got.lastIndexOf(wrong.at(-1)!);
  const after = got.slice(lastWrong + 1);
  assert.ok(after.length > 20, `${after.length} epochs after it`);
  assert.deepEqual(after, clean.slice(clean.length - after.length), 'the capture\'s own labels after it');
});

test('a time of day rolls the date forward only across a real midnight, leap second included', () => {
  const rx = new Receiver();
  const epochs = (bodies: string[]) => feed(rx, bodies).filter((o) => o.kind === 'epoch').map((o) => {
    const e = (o as Extract<ReceiverOutput, { kind: 'epoch' }>).epoch;
    return toIso(e.time).slice(0, 19) + (e.leapSecond ? ' leap' : '');
  });
  const gga = (tod: string) => `GPGGA,${tod},4404.1306,N,12118.8515,W,1,08,0.98,1127.7,M,-19.6,M,,`;
  const rmc = (tod: string, date: string) => `GPRMC,${tod},A,4404.1306,N,12118.8515,W,0.02,0.00,${date},,,A`;
  // The MTK order: GGA before RMC. At midnight the GGA carries 00:00:00 while the last date is yesterday's.
  const got = epochs([rmc('235958.000', '311226'), gga('235959.000'), rmc('235959.000', '311226'), gga('000000.000'), rmc('000000.000', '010127'), gga('000001.000')]);
  assert.deepEqual(got, ['2026-12-31T23:59:58', '2026-12-31T23:59:59', '2027-01-01T00:00:00']);
  // A time of day far behind the last epoch is not a midnight: labelled as sent, on the same date.
  assert.deepEqual(epochs([rmc('120000.000', '010127'), gga('050000.000'), rmc('120002.000', '010127')]), ['2027-01-01T00:00:01', '2027-01-01T12:00:00', '2027-01-01T05:00:00']);
  // A leap second: 23:59:60 (RMC) then the GGA of 00:00:00 with the old date: the next day, not the start of the old one.
  const leap = new Receiver();
  const le = feed(leap, [rmc('235959.000', '311216'), gga('235960.000'), rmc('235960.000', '311216'), gga('000000.000'), rmc('000000.000', '010117'), gga('000001.000')])
    .filter((o) => o.kind === 'epoch').map((o) => {
      const e = (o as Extract<ReceiverOutput, { kind: 'epoch' }>).epoch;
      return toIso(e.time).slice(0, 19) + (e.leapSecond ? ' leap' : '');
    });
  assert.deepEqual(le, ['2016-12-31T23:59:59', '2017-01-01T00:00:00 leap', '2017-01-01T00:00:00']);
});
