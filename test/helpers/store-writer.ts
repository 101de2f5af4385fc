/**
 * A child process for the crash test: the agent's history writer (HistoryStore, as the agent runs it)
 * writing much faster than the agent does, so that a SIGKILL lands inside a transaction often. It
 * continues after the last second already in the database, adds one sample every 2 ms and an event
 * every tenth, and flushes every FLUSH_MS. It prints "g T" when T is buffered and "f T" after the flush
 * that committed it returned. Pipes are synchronous on Linux: a line the parent read was written.
 */
import { HistoryStore } from '../../src/store/store.ts';
import { SAMPLE_METRICS } from '../../src/store/metrics.ts';

const [path, flushMs] = [process.argv[2]!, Number(process.argv[3] ?? 20)];
const store = new HistoryStore({
  path, busyTimeoutMs: 50, maxPending: 1_000_000,
  retention: { samplesDays: 3650, minuteDays: 3650, hourDays: 3650, eventsDays: 3650 },
}, () => 2_000_000_000);
if (!store.open()) throw new Error(`cannot open ${path}: ${store.stats.lastError}`);
const last = store.database!.prepare('SELECT max(t) FROM samples').pluck().get() as number | null;
let t = (last ?? 1_700_000_000) + 1;
let buffered = t - 1;
process.stdout.write(`ready ${t}\n`);
setInterval(() => {
  store.addSample({ t, values: SAMPLE_METRICS.map((_, i) => t * 10 + i) });
  if (t % 10 === 0) store.addEvent({ tNs: BigInt(t) * 1_000_000_000n, type: 'test', data: { t } });
  buffered = t;
  process.stdout.write(`g ${t}\n`);
  t++;
}, 2);
setInterval(() => {
  const upTo = buffered;
  if (store.flush()) process.stdout.write(`f ${upTo}\n`);
}, flushMs);
