/**
 * Every capture of the shared receiver corpus, replayed through our framer, parser and receiver state,
 * against gpsd's own output for it (.chk): per epoch, per full sky report, per line accepted or rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { replayCapture } from '../../src/gnss/replay.ts';
import { parseChk, compareWithChk, describeDifference, type Difference } from '../../src/gnss/gpsd-chk.ts';
import { CORPUS, requireCorpus } from '../helpers/env.ts';

/**
 * Deliberate differences from gpsd, each with its reason. Anything not listed here fails the test.
 *
 * Extra epochs: gpsd emits a TPV only when its cycle-end detector sees the sentence it has learned
 * ends a cycle; an epoch whose cycle is cut short (the first one before it has learned, the last one of
 * a capture, or one followed by a gap in the capture) is never reported. We report every epoch that
 * carried a valid time, closing it when the next begins or the input ends: a time server must not lose
 * a labelled second because the receiver changed its sentence order.
 */
const EXTRA_EPOCH = {
  first: 'first epoch with a valid time: gpsd has not yet learned the cycle and reports nothing for it',
  last: 'last epoch of the capture: gpsd waits for an end-of-cycle sentence that never comes',
  cut: 'epoch whose cycle lacks the sentence gpsd learned as the end of cycle (a gap or reordering in the capture)',
};
const DELIBERATE: Record<string, { match: (d: Difference) => boolean; reason: string }[]> = {
  'mtk-3301.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2008-08-23T08:14:36.000Z', reason: EXTRA_EPOCH.first }],
  'tr737A+.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2011-11-11T07:17:36.000Z', reason: EXTRA_EPOCH.first }],
  'beidou-bd.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2015-02-25T07:41:55.799Z', reason: EXTRA_EPOCH.first }],
  'myguide-3100.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2009-10-08T10:50:29.800Z', reason: EXTRA_EPOCH.first }],
  'ublox-lea-4h.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2006-08-10T03:15:18.000Z', reason: EXTRA_EPOCH.last }],
  'mr-350p.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2012-07-04T05:11:47.000Z', reason: EXTRA_EPOCH.last }],
  'ublox-lea-5h.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2010-08-21T08:37:36.000Z', reason: `${EXTRA_EPOCH.cut}: the capture jumps from 08:37:36 to 08:55:15` }],
  'gp-320fw-2019-04-06-overflow.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2019-04-06T23:57:26.020Z', reason: `${EXTRA_EPOCH.cut}: this second has no GLL, which ends the other cycles` }],
  'ch-4711.log': [
    { match: (d) => d.kind === 'epoch-extra' && d.time === '2009-12-05T13:56:58.997Z', reason: EXTRA_EPOCH.cut },
    {
      // The receiver's GSA says fix type 2 (2D) while its GGA carries an altitude. We take the
      // receiver's own statement of its fix dimension (and so report no altitude); gpsd keeps the 3D
      // it inferred from the GGA.
      match: (d) => d.kind === 'epoch-field' && (d.field === 'mode' ? d.ours === 2 && d.gpsd === 3 : d.field === 'altMSL' && d.ours === undefined),
      reason: 'GSA says 2D: we believe the receiver over an altitude in GGA',
    },
  ],
};

/**
 * Sky reports: we report the sky after every completed GSV set. gpsd, once it has seen a whole
 * multi-constellation cycle, holds back the report after the first set of each later cycle (the sky is
 * then partial). So each full SKY gpsd reports must be matched by ours after the same line with the
 * same counts; our extra partial reports are not differences (the check is one-way by design).
 */

test('the corpus is there, with its oracle for every capture', (t) => {
  if (!requireCorpus(t)) return;
  const index = JSON.parse(readFileSync(resolve(CORPUS, 'index.json'), 'utf8')) as { file: string }[];
  assert.ok(index.length >= 25, `${index.length} captures`);
  for (const e of index) assert.ok(existsSync(resolve(CORPUS, `${e.file}.chk`)), `${e.file}.chk`);
});

const files: string[] = existsSync(resolve(CORPUS, 'index.json'))
  ? (JSON.parse(readFileSync(resolve(CORPUS, 'index.json'), 'utf8')) as { file: string }[]).map((e) => e.file)
  : [];

for (const file of files) {
  test(`corpus ${file}: epochs, sky and line decisions agree with gpsd`, () => {
    const r = replayCapture(readFileSync(resolve(CORPUS, file), 'latin1'));
    const chk = parseChk(readFileSync(resolve(CORPUS, `${file}.chk`), 'latin1'));
    const cmp = compareWithChk(r, chk);
    const allowed = DELIBERATE[file] ?? [];
    const used = new Set<number>();
    const unexplained = cmp.differences.filter((d) => {
      const i = allowed.findIndex((a) => a.match(d));
      if (i >= 0) used.add(i);
      return i < 0;
    });
    assert.deepEqual(unexplained.map(describeDifference), [], `${file}: differences not explained`);
    // Every listed deliberate difference must still occur: a stale entry hides nothing.
    assert.equal(used.size, allowed.length, `${file}: a listed deliberate difference no longer occurs`);
    // The comparison really compared something where gpsd reported something.
    assert.equal(cmp.linesCompared, r.lines.length);
    if (chk.epochs.length > 0) assert.ok(r.epochs.length >= chk.epochs.length);
  });
}

test('the replay rejects what gpsd rejects: bad checksums, missing checksums, binary junk', () => {
  const text = [
    '$GPZDA,153347.000,23,04,2010,,*57',
    '$GPZDA,153347.000,23,04,2010,,*58', // wrong checksum
    '$GPZDA,153348.000,23,04,2010,,', // none
    'garbage \x01\x02\x03 line',
    'junk$GPZDA,153349.000,23,04,2010,,*59', // spliced: the sentence after the junk is whole
    '$$GPZDA,153350.000,23,04,2010,,*51', // doubled start
  ].join('\r\r\n');
  const r = replayCapture(text);
  assert.deepEqual(r.lines.map((l) => [l.accepted, l.error]), [
    [true, undefined], [false, 'bad-checksum'], [false, 'no-checksum'], [true, undefined], [true, undefined],
  ]);
  assert.equal(r.junkLines, 1);
  assert.equal(r.epochs.length, 3);
});
