/**
 * The cost of monitor-only mode: the agent with config/monitor-only.yaml (made private, as the
 * end-to-end test runs it: test/helpers/monitor-stack.ts) watching gpsd (gpsfake replaying a corpus
 * capture, about an epoch a second), a chronyd (-x) and a ptp4l grandmaster (netns, no CAP_SYS_TIME),
 * with partners.chrony.poll_s and partners.ptp4l.poll_s at 1 s (`--poll S` to change). After a
 * warm-up (the fix, chronyd synchronised, ptp4l MASTER, then 10 s), measured from /proc over the run:
 * the agent's CPU (user + system, % of one core) and RSS (sampled every second: mean, max, and the
 * kernel's high-water mark), beside chronyd's, ptp4l's and gpsd's own CPU in the same run, and the
 * ratios. The polls the agent made over the run are counted, so the rate is checked, not assumed.
 * `--no-partners`: the same run with both partners off, for what watching them costs.
 * Ends with ONE JSON line. `--quick` (the smoke test inside npm test): 10 s; `--seconds N` sets the run.
 */
import { readFileSync } from 'node:fs';
import { startMonitorStack, type MonitorStack } from '../test/helpers/monitor-stack.ts';

const quick = process.argv.includes('--quick');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};
const RUN_S = arg('--seconds') ?? (quick ? 10 : 120);
const POLL_S = arg('--poll') ?? 1;
/** --no-partners: the same stack and agent with partners.chrony and partners.ptp4l off (what watching costs). */
const WATCH = !process.argv.includes('--no-partners');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) / TICK;
}

function memKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

let stack: MonitorStack | undefined;
let exit = 0;
try {
  stack = await startMonitorStack({ pollS: POLL_S, watch: WATCH });
  const a = stack.agent;
  const chronySynced = () => stack!.chronyd.chronyc('-c', 'sources').split(',')[1] === '*';
  await a.waitFor((s) => s.gnss.fix && (WATCH ? s.partners.chrony.synchronised && s.partners.ptp4l.portState === 'MASTER' : chronySynced()), 90_000, 'the stack up');
  await sleep(10_000);
  const pids: Record<string, number | undefined> = {
    agent: a.proc.pid, chronyd: stack.chronyd.proc?.pid, ptp4l: stack.ptp4l.pid(), gpsd: stack.gpsdPid(),
  };
  for (const [k, v] of Object.entries(pids)) if (v === undefined) throw new Error(`no PID for ${k}`);
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuS(pid!)]));
  const st0 = await a.status();
  const t0 = performance.now();
  const rss: number[] = [];
  while ((performance.now() - t0) / 1000 < RUN_S) {
    await sleep(1000);
    rss.push(memKb(pids.agent!, 'VmRSS'));
  }
  const wallS = (performance.now() - t0) / 1000;
  const end = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuS(pid!)]));
  const st1 = await a.status();
  const pct = (k: string) => r3(((end[k]! - start[k]!) / wallS) * 100);
  const cpu = { agent: pct('agent'), chronyd: pct('chronyd'), ptp4l: pct('ptp4l'), gpsd: pct('gpsd') };
  const ratio = (x: number) => (x > 0 ? r1(cpu.agent / x) : null);
  const polls = {
    chrony: st1.partners.chrony.polls - st0.partners.chrony.polls, chronyFailures: st1.partners.chrony.failures - st0.partners.chrony.failures,
    ptp4l: st1.partners.ptp4l.polls - st0.partners.ptp4l.polls, ptp4lFailures: st1.partners.ptp4l.failures - st0.partners.ptp4l.failures,
  };
  console.log(`monitor-only, poll ${POLL_S} s, ${r1(wallS)} s: agent ${cpu.agent}% CPU, RSS mean ${Math.round(rss.reduce((x, y) => x + y, 0) / rss.length / 1024)} MiB; ` +
    `chronyd ${cpu.chronyd}%, ptp4l ${cpu.ptp4l}%, gpsd ${cpu.gpsd}%; polls chrony ${polls.chrony} ptp4l ${polls.ptp4l}`);
  console.log(JSON.stringify({
    bench: 'monitor-only', quick, runS: r1(wallS), pollS: WATCH ? POLL_S : null, partners: WATCH, cpuPercentOfOneCore: cpu,
    cpuSecondsPerHour: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, r1(v * 36)])),
    agentRssMiB: {
      mean: r1(rss.reduce((x, y) => x + y, 0) / rss.length / 1024), max: r1(Math.max(...rss) / 1024), highWater: r1(memKb(pids.agent!, 'VmHWM') / 1024),
    },
    agentOver: { chronyd: ratio(cpu.chronyd), ptp4l: ratio(cpu.ptp4l), gpsd: ratio(cpu.gpsd), all3: ratio(cpu.chronyd + cpu.ptp4l + cpu.gpsd) },
    polls, pollsPerS: { chrony: r3(polls.chrony / wallS), ptp4l: r3(polls.ptp4l / wallS) },
    satellitesInView: st1.gnss.satellitesInView, chronyReachable: st1.partners.chrony.reachable, ptp4lState: st1.partners.ptp4l.portState,
  }));
} catch (e) {
  console.error(String((e as Error).stack ?? e));
  exit = 1;
} finally {
  await stack?.stop();
}
process.exit(exit);
