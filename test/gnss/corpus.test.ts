/**
 * Every capture of the shared receiver corpus, replayed through our framer, parser and receiver state,
 * against gpsd's own output for it (.chk): per epoch, per full sky report, per line accepted or rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { replayCapture } from '../../src/gnss/replay.ts';
import { parseChk, compareWithChk, describeDifference, classify } from '../../src/gnss/gpsd-chk.ts';
import { CORPUS, requireCorpus } from '../helpers/env.ts';

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
    const c = classify(file, cmp);
    assert.deepEqual(c.unexplained.map(describeDifference), [], `${file}: differences not explained`);
    // Every listed deliberate difference must still occur: a stale entry hides nothing.
    assert.equal(c.unusedRules, 0, `${file}: a listed deliberate difference no longer occurs`);
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
