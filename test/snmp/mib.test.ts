/**
 * One definition, two products: the MIB file must be exactly what the definition generates, pass
 * smilint at level 6 with nothing but the documented warning, and every object the agent serves must
 * resolve by name with snmptranslate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateMib, DEFAULT_ROOT, MODULE } from '../../src/snmp/smi.ts';
import { allScalars, allTables, satelliteRows } from '../../src/snmp/mib.ts';
import { dateAndTime } from '../../src/snmp/agent.ts';
import type { Status } from '../../src/status/status.ts';
import { ROOT, requirePeers } from '../helpers/env.ts';

const FILE = resolve(ROOT, 'mibs/STRATUM1-AGENT-MIB.txt');
const BASE_MIBS = resolve(ROOT, 'node_modules/net-snmp/lib/mibs');

test('mibs/STRATUM1-AGENT-MIB.txt is exactly what the definition generates', () => {
  assert.equal(readFileSync(FILE, 'utf8'), generateMib(DEFAULT_ROOT), 'regenerate with: npx stratum1 mib > mibs/STRATUM1-AGENT-MIB.txt');
});

test('smilint at level 6 reports nothing but the documented warning', (t) => {
  if (!requirePeers(t, 'smilint')) return;
  const r = spawnSync('smilint', ['-l', '6', FILE], { encoding: 'utf8', env: { ...process.env, SMIPATH: BASE_MIBS } });
  // smilint exits 0 even with errors: judge the output. The one warning we accept: the module sits
  // at { enterprises 8072 9999 9999 } without NET-SNMP-MIB's nodes for 8072 and 8072.9999 (Debian
  // ships no IETF or Net-SNMP MIB files to import them from).
  // That warning is on the module's `::= { enterprises ... }` line, which moves as revisions are added.
  const at = readFileSync(FILE, 'utf8').split('\n').findIndex((l) => /^ {4}::= \{ enterprises /.test(l)) + 1;
  assert.ok(at > 0, 'the module identity is placed under enterprises');
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const unexpected = lines.filter((l) => !l.endsWith(`:${at}: warning: implicit node definition`));
  assert.deepEqual(unexpected, []);
});

test('snmptranslate resolves every object the agent serves, by name and number', (t) => {
  if (!requirePeers(t, 'snmptranslate')) return;
  const dir = mkdtempSync(join(tmpdir(), 'mibs-'));
  try {
    copyFileSync(FILE, join(dir, `${MODULE}.txt`));
    const names = [...allScalars().map((s) => ({ name: s.def.name, oid: `${DEFAULT_ROOT}.${s.oid.join('.')}.0` }))];
    for (const tb of allTables()) {
      for (const c of tb.def.columns) if (!c.index) names.push({ name: c.name, oid: `${DEFAULT_ROOT}.${tb.oid.join('.')}.1.${c.sub}` });
    }
    const args = ['-M', `${dir}:${BASE_MIBS}`, '-m', MODULE, '-On'];
    for (const n of names) {
      const r = spawnSync('snmptranslate', [...args, `${MODULE}::${n.name}${n.oid.endsWith('.0') ? '.0' : ''}`], { encoding: 'utf8' });
      assert.equal(r.stdout.trim(), `.${n.oid}`, `${n.name}: ${r.stderr}`);
    }
    assert.ok(names.length > 50, `${names.length} objects`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the MIB root must be under enterprises; another root moves every object', () => {
  assert.throws(() => generateMib('1.3.6.1.2.1.999'), /under enterprises/);
  const mine = generateMib('1.3.6.1.4.1.99999.1');
  assert.match(mine, /::= \{ enterprises 99999 1 \}/);
});

test('an offset of 5 s saturates the nanosecond objects but not the microsecond ones', () => {
  const get = (name: string, s: unknown) => allScalars().find((x) => x.def.name === name)!.def.get(s as Status);
  const st = { discipline: { offsetNs: 5e9, localOffsetNs: -7.5e9, timeErrorEstimateNs: 3e9 } };
  assert.equal(get('s1DisciplineOffset', st), 2147483647);
  assert.equal(get('s1DisciplineOffsetUsec', st), 5_000_000);
  assert.equal(get('s1DisciplineLocalOffset', st), -2147483648);
  assert.equal(get('s1DisciplineLocalOffsetUsec', st), -7_500_000);
  assert.equal(get('s1DisciplineErrorEstimate', st), 2147483647);
  assert.equal(get('s1DisciplineErrorEstimateUsec', st), 3_000_000);
  // Beyond +/-2147 s the microsecond objects saturate too (and do not wrap).
  assert.equal(get('s1DisciplineOffsetUsec', { discipline: { offsetNs: -3000e9 } }), -2147483648);
});

test('a DateAndTime is the 11-octet UTC form to the tenth of a second, all zeros when not set', () => {
  assert.equal(dateAndTime('2026-03-29T01:02:03.456Z').toString('hex'), '07ea031d010203042b0000');
  assert.equal(dateAndTime(null).toString('hex'), '0000000000000000');
});

test('s1SatTable has one row per (constellation, PRN): a satellite reported twice is one row', () => {
  const sats = [
    { constellation: 'GPS', prn: 12, band: 'L1' }, { constellation: 'GPS', prn: 12, band: 'L5' },
    { constellation: 'Galileo', prn: 12, band: 'E1' }, { constellation: 'GPS', prn: 5, band: 'L1' },
  ];
  assert.deepEqual(satelliteRows(sats).map((x) => `${x.constellation}.${x.prn}.${x.band}`), ['GPS.12.L1', 'Galileo.12.E1', 'GPS.5.L1']);
  const rows = allTables().find((x) => x.def.name === 's1SatTable')!.def.rows({ gnss: { satellites: sats.map((x) => ({ ...x, elevationDeg: 10, azimuthDeg: 20, snrDbHz: 30, used: true })) } } as unknown as Status);
  assert.deepEqual(rows.map((r) => [r[0], r[1]]), [[1, 12], [4, 12], [1, 5]]);
});

test('the partner groups read chronyd and ptp4l from Status, and say unknown as 0 or empty', () => {
  const get = (name: string, s: unknown) => allScalars().find((x) => x.def.name === name)!.def.get(s as Status);
  const on = {
    partners: {
      chrony: { enabled: true, reachable: true, synchronised: true, stratum: 1, reference: 'GPS', referenceId: '47505300', systemOffsetNs: -1234.6,
        frequencyPpm: -12.3456, rootDispersionS: 0.000025, sources: [{ reach: '377' }, { reach: '0' }] },
      ptp4l: { enabled: true, reachable: true, portState: 'MASTER', inExpectedState: true, grandmasterIdentity: 'aabbcc.fffe.010203', gmClockClass: 6,
        offsetFromMasterNs: 0, meanPathDelayNs: 0, stepsRemoved: 0 },
    },
  };
  assert.deepEqual(['s1ChronyEnabled', 's1ChronyReachable', 's1ChronySynchronised', 's1ChronyStratum', 's1ChronyReference', 's1ChronySystemOffset',
    's1ChronyFrequency', 's1ChronyRootDispersion', 's1ChronySources', 's1ChronySourcesUnreachable'].map((n) => get(n, on)),
  [true, true, true, 1, 'GPS (47505300)', -1235, -12346, 25, 2, 1]);
  assert.deepEqual(['s1Ptp4lPortState', 's1Ptp4lInExpectedState', 's1Ptp4lGrandmasterIdentity', 's1Ptp4lGmClockClass'].map((n) => get(n, on)),
    ['MASTER', true, 'aabbcc.fffe.010203', 6]);
  const off = {
    partners: {
      chrony: { enabled: false, reachable: false, synchronised: false, stratum: null, reference: null, referenceId: null, systemOffsetNs: null, frequencyPpm: null, rootDispersionS: null, sources: [] },
      ptp4l: { enabled: false, reachable: false, portState: null, inExpectedState: false, grandmasterIdentity: null, gmClockClass: null, offsetFromMasterNs: null, meanPathDelayNs: null, stepsRemoved: null },
    },
  };
  assert.deepEqual(['s1ChronyStratum', 's1ChronyReference', 's1ChronySystemOffset', 's1ChronyFrequency', 's1Ptp4lPortState', 's1Ptp4lGmClockClass', 's1Ptp4lOffsetFromMaster', 's1Ptp4lStepsRemoved'].map((n) => get(n, off)),
    [0, '', 0, 0, '', 0, 0, 0]);
});
