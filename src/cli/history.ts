/**
 * The history commands: `history`, `events` and `report` read the database read-only (they work with
 * the agent running or stopped); `alarms` asks the running agent.
 */
import type { Status } from '../status/status.ts';
import { writeFileSync } from 'node:fs';
import { EVENT_TYPES } from '../status/events.ts';
import { args, configFrom, controlBase, fetchStatus, UsageError, CliError, type Out } from './common.ts';
import { openReadOnly, queryHistory, queryEvents } from '../store/query.ts';
import { storeOptions } from '../store/history.ts';
import { SAMPLE_METRICS, METRIC_BY_NAME } from '../store/metrics.ts';
import { collectReport, renderReport, chooseEvery } from '../report/report.ts';
import { SystemClock, toIso } from '../time/index.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** "90s", "15m", "24h", "7d", "2w" in seconds. */
export function parseDuration(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(s.trim());
  if (!m) throw new UsageError(`${what} takes a duration such as 90s, 15m, 24h, 7d or 2w, not ${JSON.stringify(s)}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** An end time: an ISO 8601 time, or a duration before now. */
function parseUntil(s: string | undefined, nowS: number): number {
  if (s === undefined) return nowS;
  if (/^\d+(\.\d+)?[smhdw]$/.test(s)) return nowS - parseDuration(s, '--until');
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`--until takes an ISO 8601 time or a duration before now, not ${JSON.stringify(s)}`);
  return Math.floor(t / 1000);
}

function nowSeconds(): number {
  const c = new SystemClock();
  const t = Number(c.now() / 1_000_000_000n);
  c.stop();
  return t;
}

function open(configFile: string | undefined) {
  const cfg = configFrom(configFile);
  const o = storeOptions(cfg);
  try {
    return { cfg, o, db: openReadOnly(o.path) };
  } catch (e) {
    throw new CliError(`${(e as Error).message} (is store.enabled on, and agent.state_dir where the agent keeps it?)`);
  }
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
const num = (v: number) => (Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000));

export function cmdHistory(rest: string[], io: Out): number {
  const a = args(rest, {
    config: { type: 'string', short: 'c' }, since: { type: 'string' }, until: { type: 'string' }, every: { type: 'string' },
    csv: { type: 'boolean' }, json: { type: 'boolean' }, list: { type: 'boolean' },
  }, 1);
  if (a.values.list) {
    for (const m of SAMPLE_METRICS) io.out(`${m.name.padEnd(20)} ${m.units.padEnd(11)} ${m.description}\n`);
    return 0;
  }
  const metric = a.positionals[0];
  if (!metric) throw new UsageError(`history needs a metric: one of ${SAMPLE_METRICS.map((m) => m.name).join(', ')}`);
  if (!METRIC_BY_NAME.has(metric)) throw new UsageError(`unknown metric ${JSON.stringify(metric)}: one of ${SAMPLE_METRICS.map((m) => m.name).join(', ')}`);
  if (a.values.csv && a.values.json) throw new UsageError('--csv and --json: choose one');
  const nowS = nowSeconds();
  const toS = parseUntil(a.values.until as string | undefined, nowS);
  const fromS = toS - parseDuration((a.values.since as string | undefined) ?? '24h', '--since');
  const everyS = a.values.every ? parseDuration(a.values.every as string, '--every') : chooseEvery(toS - fromS);
  let h;
  const { db } = open(a.values.config as string | undefined);
  try {
    h = queryHistory(db, metric, fromS, toS, everyS);
  } catch (e) {
    throw new CliError(`reading the history: ${(e as Error).message}`);
  } finally {
    db.close();
  }
  const unit = METRIC_BY_NAME.get(metric)!.units;
  if (a.values.json) {
    io.out(JSON.stringify({ metric, unit, from: iso(fromS), to: iso(toS), everyS, stepS: h.stepS, resolution: h.resolution, parts: h.parts.map((p) => ({ ...p, from: iso(p.fromS), to: iso(p.toS) })), points: h.points.map((p) => ({ time: iso(p.t), ...p })) }) + '\n');
  } else if (a.values.csv) {
    io.out('time,t,n,mean,min,max,sd\n');
    for (const p of h.points) io.out(`${iso(p.t)},${p.t},${p.n},${p.mean},${p.min},${p.max},${p.sd}\n`);
  } else {
    const used = h.parts.filter((p) => p.points > 0);
    const from = used.length === 0 ? `nothing recorded (${h.resolution} table)`
      : used.length === 1 ? `the ${used[0]!.resolution} table`
        : used.map((p) => `the ${p.resolution} table ${iso(p.fromS)} to ${iso(p.toS)}`).join(', ');
    io.out(`${metric}${unit ? ` (${unit})` : ''}, ${iso(fromS)} to ${iso(toS)}, one point per ${h.stepS} s, from ${from}: ${h.points.length} points\n`);
    io.out(`${'time (UTC)'.padEnd(21)} ${'n'.padStart(6)} ${'mean'.padStart(12)} ${'min'.padStart(12)} ${'max'.padStart(12)} ${'sd'.padStart(10)}\n`);
    for (const p of h.points) {
      io.out(`${iso(p.t).padEnd(21)} ${String(p.n).padStart(6)} ${num(p.mean).padStart(12)} ${num(p.min).padStart(12)} ${num(p.max).padStart(12)} ${num(p.sd).padStart(10)}\n`);
    }
  }
  return 0;
}

export function cmdEvents(rest: string[], io: Out): number {
  const a = args(rest, { config: { type: 'string', short: 'c' }, since: { type: 'string' }, until: { type: 'string' }, type: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  const nowS = nowSeconds();
  const toS = parseUntil(a.values.until as string | undefined, nowS);
  const fromS = toS - parseDuration((a.values.since as string | undefined) ?? '7d', '--since');
  const types = a.values.type as string[] | undefined;
  const unknown = (types ?? []).filter((x) => !(EVENT_TYPES as readonly string[]).includes(x));
  if (unknown.length) throw new UsageError(`no event type ${unknown.join(', ')}; the types are ${EVENT_TYPES.join(', ')}`);
  const { db } = open(a.values.config as string | undefined);
  let events;
  try {
    events = queryEvents(db, BigInt(fromS) * 1_000_000_000n, BigInt(toS + 1) * 1_000_000_000n, 100_000, a.values.type as string[] | undefined);
  } finally {
    db.close();
  }
  for (const e of events) {
    if (a.values.json) io.out(JSON.stringify({ at: toIso(e.tNs, 6), type: e.type, ...e.data }) + '\n');
    else io.out(`${toIso(e.tNs, 3)}  ${e.type.padEnd(20)} ${Object.keys(e.data).length ? JSON.stringify(e.data) : ''}\n`);
  }
  if (!a.values.json) io.err(`${events.length} events from ${iso(fromS)} to ${iso(toS)}\n`);
  return 0;
}

export async function cmdAlarms(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, url: { type: 'string' }, json: { type: 'boolean' } });
  const st = await fetchStatus((a.values.url as string | undefined) ?? `${controlBase(a.values.config as string | undefined)}/status`);
  if (a.values.json) {
    io.out(`${JSON.stringify(st.alarms, null, 2)}\n`);
    return 0;
  }
  const active = st.alarms.filter((x) => x.severity !== 'none');
  io.out(`${active.length} active alarm${active.length === 1 ? '' : 's'} of ${st.alarms.length} rules\n`);
  for (const x of st.alarms) io.out(`${formatAlarm(x)}\n`);
  return 0;
}

/** One alarm rule for `stratum1 alarms`: its state, its figure now and its thresholds in its units
 * (a boolean rule in words: "yes" or "no", not "value 0 vs 0.5"), when it was raised, what it watches. */
export function formatAlarm(x: Status['alarms'][number]): string {
  const state = !x.enabled ? 'off' : x.severity === 'none' ? 'ok' : x.severity.toUpperCase();
  const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
  let figures: string;
  if (!x.enabled) figures = 'disabled in the configuration';
  else if (x.units === 'boolean') {
    figures = `now ${x.current === null ? 'n/a' : x.current >= 0.5 ? 'yes' : 'no'} (${x.critical !== null ? 'critical' : 'warning'} when ${x.comparison === 'above' ? 'yes' : 'no'})`;
  } else {
    const levels = [x.warning !== null ? `warning ${x.comparison} ${num(x.warning)}` : '', x.critical !== null ? `critical ${x.comparison} ${num(x.critical)}` : ''].filter(Boolean).join(', ');
    figures = `now ${x.current === null ? 'n/a' : `${num(x.current)} ${x.units}`} (${levels} ${x.units})`;
  }
  const raised = x.severity !== 'none' && x.raisedAt ? `, raised ${x.raisedAt}` : '';
  return `  ${String(x.index).padStart(2)} ${x.name.padEnd(25)} ${state.padEnd(8)} ${figures}${raised}  ${x.description}`;
}

export function cmdReport(rest: string[], io: Out): number {
  const a = args(rest, { config: { type: 'string', short: 'c' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string', short: 'o' } });
  const out = a.values.out as string | undefined;
  if (!out) throw new UsageError('report needs --out FILE.html');
  const nowS = nowSeconds();
  const toS = parseUntil(a.values.until as string | undefined, nowS);
  const fromS = toS - parseDuration((a.values.since as string | undefined) ?? '24h', '--since');
  const { cfg, db } = open(a.values.config as string | undefined);
  let html: string;
  try {
    html = renderReport(collectReport(db, cfg.agent.name, fromS, toS, nowS));
  } finally {
    db.close();
  }
  try {
    writeFileSync(out, html);
  } catch (e) {
    throw new CliError(`cannot write the report to ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.out(`${out}: ${html.length} bytes, ${iso(fromS)} to ${iso(toS)}\n`);
  return 0;
}
