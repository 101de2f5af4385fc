/**
 * One fact, one value, on every surface. A real agent on the simulator (the default oscillator: 200 ms
 * off, 20 ppm, 1 us of PPS jitter, so the served clock's offset and the oscillator's differ by five
 * orders of magnitude and the offset moves every second) is read through `stratum1 status --json`,
 * snmpget (our MIB and NTPv4-MIB), /metrics and the newest row of its history, and each gives the same
 * offset, state, stratum, satellites used and time error as Status at the same moment.
 *
 * The same moment: every surface is built from a Status the agent took at an instant of its own (the
 * SNMP agent refreshes from one Status a second, the history samples one a second, the CLI and /metrics
 * build one per request). Meanwhile the test reads /status about twenty times a second: a timeline.
 * (The agent may build Status once per tick and serve it until the next: then the timeline holds each
 * tick's.) The offset changes only when a PPS sample is accepted, and to a value of its own (jitter of about
 * 1 us, kept to the picosecond), so a surface's offset names the sample its Status came after; the
 * timeline's snapshots of that sample are the same moment. Against them:
 * - the offset must be equal, to the surface's own resolution (1 ns for SNMP's integers and NTPv4-MIB's
 *   "0.000123 ms" strings);
 * - state, stratum and satellites used must be equal (stable once locked, and in any case compared with
 *   snapshots of the same sample);
 * - the time error estimate moves continuously between samples (its sigma grows, the slew still to do
 *   shrinks), so it must lie within the range the timeline saw during that sample, widened by the largest
 *   step between two consecutive snapshots (the movement the timeline cannot see) and the resolution;
 * - the oscillator's offset (localOffsetNs) likewise: it runs at the oscillator's 20 ppm, 20 ns a ms.
 * SNMP's sample is pinned by its PPS pulse count too (s1PpsPulses, from the same Status); the history's
 * row by its second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { requirePeers, ROOT } from './helpers/env.ts';
import { startAgent, BIN } from './helpers/agent.ts';
import { freeUdpPort } from './helpers/ports.ts';
import { allScalars } from '../src/snmp/mib.ts';
import { DEFAULT_ROOT } from '../src/snmp/smi.ts';
import { V4_SCALARS, V4_TABLES } from '../src/snmp/ntpv4-mib.ts';
import { STATE_CODES, STATE_NAMES, type Status } from '../src/status/status.ts';
import { parseMetrics } from './helpers/metrics.ts';

// Asynchronous, so the timeline keeps being read while a command runs.
const run = promisify(execFile);

/** What one surface said, from one Status of the agent's. */
interface Reading {
  surface: string;
  offsetNs: number;
  /** The surface's resolution for nanosecond figures. */
  resolutionNs: number;
  stateCode?: number;
  stratum?: number;
  satellitesUsed?: number;
  timeErrorNs?: number;
  localOffsetNs?: number;
  /** Also identifies the sample: the PPS pulse count of the same Status. */
  pulses?: number;
  /** The history's row: its second (on the served clock). */
  second?: number;
}

const ourOid = (name: string) => `${DEFAULT_ROOT}.${allScalars().find((s) => s.def.name === name)!.oid.join('.')}.0`;
const v4Oid = (name: string) => `${V4_SCALARS.find((s) => s.name === name)!.oid}.0`;
function v4AssocOid(column: string): string {
  const t = V4_TABLES.find((x) => x.name === 'ntpAssociationTable')!;
  return `${t.entryOid}.${t.columns.find((c) => c.name === column)!.sub}.1`;
}
/** NTPv4-MIB's figures are strings such as "-0.000888 ms". */
const msTextNs = (v: string) => {
  const m = /^(-?\d+\.\d+) ms$/.exec(v);
  assert.ok(m, `not an NTPv4-MIB time: "${v}"`);
  return Number(m[1]) * 1e6;
};

async function snmpget(port: number, oids: string[]): Promise<Map<string, string>> {
  const r = await run('snmpget', ['-m', '', '-On', '-t', '2', '-r', '1', '-v2c', '-c', 'surfaces-ro', `127.0.0.1:${port}`, ...oids], { encoding: 'utf8', timeout: 30_000 });
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const x = /^\.(\S+) = (?:[A-Za-z0-9-]+: )?(.*)$/.exec(line);
    if (x) out.set(x[1]!, x[2]!.replace(/^"|"$/g, ''));
  }
  for (const o of oids) assert.ok(out.has(o), `snmpget gave no ${o}: ${r.stdout}`);
  return out;
}

/** The timeline's snapshots of the sample a reading's Status came after, and the timeline around them. */
function sameSample(r: Reading, timeline: Status[]): { same: Status[]; before: Status | undefined; after: Status | undefined } {
  const hits = timeline.filter((p) => p.discipline.offsetNs !== null && Math.abs(p.discipline.offsetNs - r.offsetNs) <= r.resolutionNs &&
    (r.pulses === undefined || p.pps.pulses === r.pulses) && (r.second === undefined || Math.abs(p.timeUnixS - r.second) <= 3));
  const offsets = [...new Set(timeline.map((p) => p.discipline.offsetNs))];
  assert.ok(hits.length > 0, `${r.surface}: offset ${r.offsetNs} ns${r.pulses === undefined ? '' : ` after pulse ${r.pulses}`} is no offset Status had meanwhile (${offsets.join(', ')})`);
  const samples = new Set(hits.map((p) => p.discipline.samplesAccepted));
  assert.equal(samples.size, 1, `${r.surface}: offset ${r.offsetNs} ns matches more than one sample`);
  const n = hits[0]!.discipline.samplesAccepted;
  const first = timeline.findIndex((p) => p.discipline.samplesAccepted === n);
  const last = timeline.length - 1 - [...timeline].reverse().findIndex((p) => p.discipline.samplesAccepted === n);
  return { same: timeline.slice(first, last + 1), before: timeline[first - 1], after: timeline[last + 1] };
}

/**
 * A figure that moves continuously between samples: within what the timeline saw during the sample,
 * widened by how far it can move while the timeline was not looking. That is its fastest rate between
 * two consecutive snapshots of the sample times the longest stretch of the sample the timeline may have
 * missed (from the previous sample's last snapshot to this one's first, from this one's last to the
 * next's first, or the longest gap between two of its snapshots), plus the surface's resolution.
 */
function withinMovement(what: string, got: number, sample: ReturnType<typeof sameSample>, get: (s: Status) => number | null, resolutionNs: number): void {
  const { same, before, after } = sample;
  assert.ok(same.length >= 2, `${what}: the timeline has ${same.length} snapshot(s) of the sample`);
  const v = same.map((x) => get(x)!);
  const at = same.map((x) => x.timeUnixS);
  let rate = 0;
  let unseenS = Math.max(before ? at[0]! - before.timeUnixS : 1, after ? after.timeUnixS - at.at(-1)! : 1);
  for (let i = 1; i < same.length; i++) {
    rate = Math.max(rate, Math.abs(v[i]! - v[i - 1]!) / (at[i]! - at[i - 1]!));
    unseenS = Math.max(unseenS, at[i]! - at[i - 1]!);
  }
  const slack = rate * unseenS + resolutionNs;
  const lo = Math.min(...v) - slack;
  const hi = Math.max(...v) + slack;
  assert.ok(got >= lo && got <= hi, `${what}: ${got}, while Status said ${v.join(', ')} during that sample (allowed ${lo} to ${hi})`);
}

test('every surface gives the same offset, state, stratum, satellites used and time error at the same moment', async (t) => {
  if (!requirePeers(t, 'snmpget')) return;
  const dir = mkdtempSync(join(tmpdir(), 'surfaces-'));
  const snmpPort = await freeUdpPort();
  writeFileSync(join(dir, 'agent.yaml'), [
    'receiver:', '  source: simulator',
    'discipline:', '  lock_min_samples: 3', '  leap_seconds_file: ""',
    'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: [127.0.0.1]', '  port: 0',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, '  communities: [surfaces-ro]', '  v2c_allow: [127.0.0.1/32]',
    // Written every second, so the newest row is at most a couple of seconds old.
    'store:', '  flush_interval_s: 1',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  const a = await startAgent(join(dir, 'agent.yaml'));
  try {
    const locked = await a.waitFor((s) => s.discipline.state === 'LOCKED' && s.discipline.offsetNs !== null && s.gnss.satellitesUsed > 0, 90_000, 'LOCKED');
    // Let the history hold rows taken after the lock.
    await new Promise((r) => setTimeout(r, 3000));
    const metricsPort = /prometheus-http tcp \S+:(\d+)/.exec(a.out())![1]!;

    const timeline: Status[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        // The agent may serve the Status of its last tick again: one observation, kept once.
        const p = await a.status();
        if (p.timeUnixS !== timeline.at(-1)?.timeUnixS) timeline.push(p);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 2500));

    const readings: Reading[] = [];
    // stratum1 status --json: the CLI, a process of its own, on the control endpoint.
    const cli = await run(process.execPath, [BIN, 'status', '--json', '--url', a.statusUrl], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    const st = JSON.parse(cli.stdout) as Status;
    readings.push({
      surface: 'stratum1 status --json', offsetNs: st.discipline.offsetNs!, resolutionNs: 0.001, stateCode: st.discipline.stateCode,
      stratum: st.discipline.stratum, satellitesUsed: st.gnss.satellitesUsed, timeErrorNs: st.discipline.timeErrorEstimateNs!,
      localOffsetNs: st.discipline.localOffsetNs!, pulses: st.pps.pulses,
    });
    assert.equal(STATE_NAMES[st.discipline.stateCode], st.discipline.state, 'the state code is the state\'s');

    // snmpget, one request: every value from the one Status the agent last refreshed from.
    const ours = ['s1DisciplineOffset', 's1DisciplineLocalOffset', 's1DisciplineState', 's1DisciplineStratum', 's1GnssSatellitesUsed', 's1DisciplineErrorEstimate', 's1PpsPulses'];
    const v4 = { offset: v4Oid('ntpEntStatusActiveOffset'), stratum: v4Oid('ntpEntStatusStratum'), assocOffset: v4AssocOid('ntpAssocOffset'), dispersion: v4AssocOid('ntpAssocStatusDispersion') };
    const got = await snmpget(snmpPort, [...ours.map(ourOid), ...Object.values(v4)]);
    const our = (name: string) => Number(got.get(ourOid(name)));
    readings.push({
      surface: 'snmpget STRATUM1-AGENT-MIB', offsetNs: our('s1DisciplineOffset'), resolutionNs: 0.5, stateCode: our('s1DisciplineState'),
      stratum: our('s1DisciplineStratum'), satellitesUsed: our('s1GnssSatellitesUsed'), timeErrorNs: our('s1DisciplineErrorEstimate'),
      localOffsetNs: our('s1DisciplineLocalOffset'), pulses: our('s1PpsPulses'),
    });
    // NTPv4-MIB has no state nor satellites; its association's dispersion is the time error estimate.
    readings.push({
      surface: 'snmpget NTPv4-MIB', offsetNs: msTextNs(got.get(v4.offset)!), resolutionNs: 0.5, stratum: Number(got.get(v4.stratum)),
      timeErrorNs: msTextNs(got.get(v4.dispersion)!), pulses: our('s1PpsPulses'),
    });
    assert.equal(got.get(v4.assocOffset), got.get(v4.offset), 'the association\'s offset is the active offset');

    // /metrics. Satellites used per constellation: their sum (PromQL's sum()) is the total.
    const m = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const stateCode = m.get('stratum1_discipline_state_code')!;
    for (const [name, code] of Object.entries(STATE_CODES)) assert.equal(m.get(`stratum1_discipline_state{state="${name}"}`), code === stateCode ? 1 : 0, name);
    readings.push({
      surface: '/metrics', offsetNs: m.get('chrony_tracking_last_offset_seconds')! * 1e9, resolutionNs: 0.001, stateCode,
      stratum: m.get('chrony_tracking_stratum'), timeErrorNs: m.get('stratum1_time_error_estimate_seconds')! * 1e9,
      satellitesUsed: [...m].filter(([k]) => k.startsWith('stratum1_gnss_satellites_used{')).reduce((x, [, v]) => x + v, 0),
      localOffsetNs: m.get('stratum1_local_offset_seconds')! * 1e9, pulses: m.get('stratum1_pps_pulses_total'),
    });

    // The newest history row (the history keeps no stratum: it follows from the state it does keep).
    await new Promise((r) => setTimeout(r, 1500));
    const db = new Database(st.store.path!, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT * FROM samples ORDER BY t DESC LIMIT 1').get() as Record<string, number>;
    db.close();
    readings.push({
      surface: `history row ${row.t}`, offsetNs: row.offset_ns!, resolutionNs: 0.001, stateCode: row.state, satellitesUsed: row.satellites_used,
      timeErrorNs: row.time_error_ns, localOffsetNs: row.local_offset_ns, second: row.t,
    });
    await new Promise((r) => setTimeout(r, 500));
    polling = false;
    await poller;

    assert.ok(timeline.length > 20, `${timeline.length} snapshots`);
    assert.ok(timeline.every((p) => p.discipline.state === 'LOCKED'), 'locked throughout');
    for (const r of readings) {
      const sample = sameSample(r, timeline);
      const { same } = sample;
      const p = same[0]!;
      if (r.stateCode !== undefined) assert.equal(r.stateCode, p.discipline.stateCode, `${r.surface}: state`);
      if (r.stratum !== undefined) assert.equal(r.stratum, p.discipline.stratum, `${r.surface}: stratum`);
      if (r.satellitesUsed !== undefined) {
        const seen = new Set(same.map((x) => x.gnss.satellitesUsed));
        assert.ok(seen.has(r.satellitesUsed), `${r.surface}: ${r.satellitesUsed} satellites used, Status said ${[...seen].join(' or ')}`);
      }
      if (r.timeErrorNs !== undefined) withinMovement(`${r.surface}: time error`, r.timeErrorNs, sample, (x) => x.discipline.timeErrorEstimateNs, r.resolutionNs);
      if (r.localOffsetNs !== undefined) withinMovement(`${r.surface}: local offset`, r.localOffsetNs, sample, (x) => x.discipline.localOffsetNs, r.resolutionNs);
    }
    // The test can tell the two offsets apart: the served clock's is within microseconds of GPS, the
    // oscillator's some 200 ms off (the simulator's initial offset).
    assert.ok(Math.abs(locked.discipline.localOffsetNs!) > 1e8, `local offset ${locked.discipline.localOffsetNs}`);
    for (const r of readings) assert.ok(Math.abs(r.offsetNs) < 1e5, `${r.surface}: offset ${r.offsetNs} ns`);
    assert.equal(readings.length, 5);
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
