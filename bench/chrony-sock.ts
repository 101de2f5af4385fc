/**
 * The chronyd feed over simulated GPS in real time: a real chronyd (`-x`: it keeps its corrections to
 * itself and never touches this machine's clock; `refclock SOCK ... refid GPS poll 2 precision 1e-7`)
 * fed by the agent on the simulator (the oscillator 200 ms and 20 ppm off, 1 us RMS PPS jitter,
 * 2 ppb/sqrt(s) wander; the edges mapped back to the host's clock). Every 30 s (5 s in --quick) the
 * GPS row of `chronyc sourcestats` and `chronyc sources`; at the end the raw samples chronyd logged
 * (refclocks.log) against what the agent sent, chronyc tracking's view, and the feed's counters.
 * Ends with ONE JSON line. `--quick` (the smoke test inside npm test): 25 s; `--seconds N` sets the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../test/helpers/agent.ts';
import { freeUdpPort } from '../test/helpers/ports.ts';
import { sockChronyd, type StatsRow, type SourceRow } from '../test/helpers/chronyd-refclock.ts';

const quick = process.argv.includes('--quick');
const si = process.argv.indexOf('--seconds');
const RUN_S = si > 0 ? Number(process.argv[si + 1]) : quick ? 25 : 600;
const EVERY_S = quick ? 5 : 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'bench-chrony-sock-'));
const chronyd = sockChronyd(dir);
let agent: RunningAgent | undefined;
const rows: { t: number; source: SourceRow | undefined; stats: StatsRow | undefined }[] = [];
let selectedAtS: number | null = null;
try {
  await chronyd.start();
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, [
    'receiver:', '  source: simulator', 'agent:', `  state_dir: ${JSON.stringify(join(dir, 'state'))}`,
    'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: [127.0.0.1]', `  port: ${await freeUdpPort()}`, 'snmp:', '  enabled: false', 'logging:', '  level: warn',
    'export:', `  chrony_sock: ${JSON.stringify(chronyd.sockPath)}`, '',
  ].join('\n'));
  const t0 = performance.now();
  agent = await startAgent(cfg);
  const el = () => (performance.now() - t0) / 1000;
  let next = EVERY_S;
  while (el() < RUN_S) {
    await sleep(250);
    if (selectedAtS === null && chronyd.source()?.state === '*') selectedAtS = +el().toFixed(1);
    if (el() >= next) {
      next += EVERY_S;
      const r = { t: Math.round(el()), source: chronyd.source(), stats: chronyd.stats() };
      rows.push(r);
      const s = r.stats;
      console.log(`t=${r.t}s source ${r.source?.state ?? '-'} reach ${(r.source?.reach ?? 0).toString(8)}` +
        (s ? ` sourcestats NP ${s.samples} span ${s.spanS}s freq ${s.freqPpm}ppm skew ${s.skewPpm}ppm offset ${(s.offsetS * 1e9).toFixed(0)}ns sd ${(s.stdDevS * 1e9).toFixed(0)}ns` : ''));
    }
  }
  const st = (await agent.status()).chronySock;
  const tracking = chronyd.chronyc('-c', 'tracking').trim().split(',');
  const raw = chronyd.samples().map((x) => x.rawOffsetS * 1e9);
  const rms = Math.sqrt(raw.reduce((a, x) => a + x * x, 0) / Math.max(1, raw.length));
  const mean = raw.reduce((a, x) => a + x, 0) / Math.max(1, raw.length);
  const last = rows.at(-1);
  console.log(JSON.stringify({
    bench: 'chrony-sock', quick, runS: RUN_S, chronyd: chronyd.chronyc('-v').trim() || 'chronyc', selectedAtS,
    feed: { sent: st.samplesSent, skipped: st.samplesSkipped, sendErrors: st.sendErrors, reconnects: st.reconnects, timevalBits: st.timevalBits },
    rawSamples: { n: raw.length, meanNs: +mean.toFixed(1), rmsNs: +rms.toFixed(1), maxAbsNs: Math.round(Math.max(0, ...raw.map(Math.abs))) },
    sourcestats: last?.stats ?? null, source: last?.source ?? null,
    // chronyc -c tracking: refid, name, stratum, ref time, system time, last offset, RMS offset, frequency, residual, skew, ...
    // (under -x, chronyd's own idea of the clock it would steer)
    tracking: { stratum: Number(tracking[2]), systemTimeS: Number(tracking[4]), lastOffsetS: Number(tracking[5]), rmsOffsetS: Number(tracking[6]), frequencyPpm: Number(tracking[7]), skewPpm: Number(tracking[9]) },
    series: rows.map((r) => ({ t: r.t, state: r.source?.state ?? null, np: r.stats?.samples ?? null, offsetNs: r.stats ? Math.round(r.stats.offsetS * 1e9) : null, sdNs: r.stats ? Math.round(r.stats.stdDevS * 1e9) : null })),
  }));
} finally {
  await agent?.stop();
  await chronyd.stop();
  rmSync(dir, { recursive: true, force: true });
}
