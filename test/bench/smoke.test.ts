/**
 * Every benchmark runs to its JSON line: the quick mode of each (`--quick`: seconds, not minutes),
 * so none can rot unseen between the runs that produce bench/REPORT.md. Only that it completes and
 * prints its JSON is asserted, never its figures: performance is measured in the benchmarks, not here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { requirePeers, ROOT } from '../helpers/env.ts';

/** Each benchmark and the real peers it runs beside. */
const BENCHES: [string, string[]][] = [
  ['nmea', ['gpsd', 'socat']],
  ['discipline', []],
  ['store', []],
  ['export', ['influxd']],
  ['ntp', ['chronyd']],
  ['snmp', ['snmpd']],
  ['ptp', ['ptp4l', 'setpriv', 'ip']],
  ['idle', []],
  ['integrity', []],
  ['hostile', ['ip', 'snmpget']],
  ['chrony-sock', ['chronyd', 'chronyc']],
  ['nts', ['chronyd', 'openssl']],
  ['footprint', []],
  ['monitor-only', ['gpsd', 'gpsfake', 'chronyd', 'chronyc', 'ptp4l', 'setpriv', 'ip']],
];

for (const [name, peers] of BENCHES) {
  test(`bench/${name}.ts --quick runs to its JSON line`, (t) => {
    if (!requirePeers(t, ...peers)) return;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`), '--quick'], {
      cwd: ROOT, encoding: 'utf8', timeout: 480_000, maxBuffer: 64 * 1024 * 1024,
    });
    const tail = `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`;
    assert.equal(r.status, 0, `exit ${r.status} (${r.signal ?? 'no signal'}):\n${tail}`);
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    let figures: { bench?: string; quick?: boolean };
    try {
      figures = JSON.parse(last) as { bench?: string; quick?: boolean };
    } catch {
      assert.fail(`the last line is not JSON:\n${tail}`);
    }
    assert.equal(figures.bench, name);
    assert.equal(figures.quick, true);
  });
}
