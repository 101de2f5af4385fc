/**
 * The stratum1 command: run the agent, show a running agent's status, replay a receiver capture,
 * check a configuration file, print the documented example configuration.
 */
import { SystemdNotifier } from '../net/sd-notify.ts';
import { readFileSync, createReadStream } from 'node:fs';
import { loadConfig, ConfigError, exampleYaml } from '../config/config.ts';
import { args, configFrom, controlBase, fetchStatus, UsageError, CliError, std, type Out, statusUrl, whyNot } from './common.ts';
import { cmdHistory, cmdEvents, cmdAlarms, cmdReport } from './history.ts';
import { cmdNmea } from './nmea.ts';
import { SystemClock, toIsoLabel } from '../time/index.ts';
import { Logger } from '../log.ts';
import { Service } from '../service.ts';
import { ActuatorStartError } from '../discipline/system-actuator.ts';
import { replayCapture, ReplayStream } from '../gnss/replay.ts';
import { parseChk, compareWithChk, describeDifference, classify } from '../gnss/gpsd-chk.ts';
import { basename } from 'node:path';
import { FixMode, type Epoch } from '../gnss/receiver.ts';
import type { Status } from '../status/status.ts';
import { VERSION } from '../version.ts';
import { generateMib } from '../snmp/smi.ts';
import { formatChronyPartner } from '../partners/chrony-format.ts';
import { formatPtp4lPartner } from '../partners/ptp4l-format.ts';
import { cmdSetup } from '../setup/cli.ts';

/** Whatever went wrong is said in one sentence on stderr, with status 2; 1 is kept for what the command
 * found or met (differences from gpsd, a failing setup check, an agent that could not start). */
const EXIT_STATUS = 'Exit status: 0 success; 1 a check found a problem (replay --check, setup check) or the agent could not start; ' +
  '2 an error, said in one sentence: bad usage, bad configuration, no agent answering, a file that cannot be read or written.';

const USAGE = `stratum1 ${VERSION}: a monitoring-first agent for GPS-disciplined time servers

Usage:
  stratum1 run [--config FILE] [--simulate]    run the agent (--simulate: the built-in GPS)
  stratum1 status [--config FILE] [--url URL] [--json] [--watch [--interval S] [--count N]]
                                              show a running agent's state (--watch: redrawn in place)
  stratum1 replay FILE [--json] [--check FILE.chk] [--min-date YYYY-MM-DD]
                                              replay an NMEA capture through the parser and receiver
  stratum1 check-config FILE                   validate a configuration file
  stratum1 config-example                      print every option with its default and documentation
  stratum1 mib [--config FILE]                 print our MIB (SMIv2), placed where the config says
  stratum1 traps test|resend [--config FILE] [--url URL]
                                              send a test notification, or resend the active faults
  stratum1 history METRIC [--since 24h] [--until TIME] [--every 1m] [--csv|--json] [--config FILE]
                                              a metric's history from the database (stratum1 history --list)
  stratum1 events [--since 7d] [--type T] [--json] [--config FILE]
                                              the recorded events
  stratum1 nmea [--count N] [--seconds S] [--config FILE] [--url URL]
                                              the receiver's raw NMEA from the running agent, line by line as received (like gpspipe -r)
  stratum1 clients [--top N] [--by minute|hour|day|total] [--config FILE] [--url URL] [--json]
                                              who uses the NTP server: requests per client over the last minute, hour, day
  stratum1 alarms [--config FILE] [--url URL] [--json]
                                              every alarm rule and its state, from the running agent
  stratum1 report [--since 24h] --out FILE.html [--config FILE]
                                              a self-contained HTML page with charts, to open offline
  stratum1 setup pi [--dry-run] [--root DIR] [--pps-pin N] [--disable-wifi] [--keep-gpsd]
                                              set up a Raspberry Pi for the agent (UART, PPS, user, config, unit)
  stratum1 setup check [--config FILE] [--root DIR]
                                              is the UART free, does PPS tick, does NMEA arrive, who steers the clock
  stratum1 version

${EXIT_STATUS}`;


/** A command's own lines of the usage text, for `stratum1 COMMAND --help`; undefined for no such command. */
export function commandHelp(cmd: string): string | undefined {
  const lines = USAGE.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith(`  stratum1 ${cmd} `) && lines[i] !== `  stratum1 ${cmd}`) continue;
    out.push(lines[i]!);
    while (lines[i + 1]?.startsWith('       ')) out.push(lines[++i]!);
  }
  if (out.length === 0) return undefined;
  const where = cmd === 'setup' ? 'setup check reads --config FILE, else $STRATUM1_CONFIG, else /etc/stratum1/stratum1.yaml (the installed agent\'s), else the defaults.'
    : 'The configuration: --config FILE, else $STRATUM1_CONFIG, else ./config/stratum1.yaml, else /etc/stratum1/stratum1.yaml.';
  return `${out.join('\n')}\n\n${where}\n${EXIT_STATUS}`;
}

/** A configuration file that cannot be read, said in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'there is no such file', EISDIR: 'it is a directory', EACCES: 'permission denied (the agent\'s configuration is root:stratum1 0640: sudo, or a member of stratum1)',
};

export async function main(argv: string[], io: Out = std): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd && (rest.includes('--help') || rest.includes('-h'))) {
    const help = commandHelp(cmd);
    if (help) {
      io.out(`${help}\n`);
      return 0;
    }
  }
  try {
    switch (cmd) {
      case 'run': return await cmdRun(rest, io);
      case 'status': return await cmdStatus(rest, io);
      case 'replay': return await cmdReplay(rest, io);
      case 'check-config': return cmdCheckConfig(rest, io);
      case 'traps': return await cmdTraps(rest, io);
      case 'history': return cmdHistory(rest, io);
      case 'events': return cmdEvents(rest, io);
      case 'alarms': return await cmdAlarms(rest, io);
      case 'clients': return await cmdClients(rest, io);
      case 'nmea': return await cmdNmea(rest, io);
      case 'report': return cmdReport(rest, io);
      case 'setup': return await cmdSetup(rest, io);
      case 'config-example': io.out(exampleYaml()); return 0;
      case 'mib': {
        const a = args(rest, { config: { type: 'string', short: 'c' } });
        io.out(generateMib(configFrom(a.values.config as string | undefined).snmp.enterprise_oid));
        return 0;
      }
      case 'version': case '--version': io.out(`${VERSION}\n`); return 0;
      case undefined: case 'help': case '--help': case '-h': io.out(`${USAGE}\n`); return cmd === undefined ? 2 : 0;
      default: io.err(`stratum1: unknown command "${cmd}"\n\n${USAGE}\n`); return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      const only = e.issues.length === 1 && e.issues[0]!.path === '(file)' ? e.issues[0]!.found : undefined;
      io.err(only === undefined ? `stratum1: bad configuration: ${e.message}\n`
        : `stratum1: cannot read the configuration file ${e.file}: ${FILE_ERRORS[only] ?? only}\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`stratum1: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      io.err(`stratum1: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function cmdRun(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, simulate: { type: 'boolean' } });
  const cfg = configFrom(a.values.config as string | undefined);
  const simulate = (a.values.simulate as boolean | undefined) === true || cfg.receiver.source === 'simulator';
  // What the agent keeps (the InfluxDB queue, the saved frequency, the engine ID, the keys) is for it
  // alone, however it was started: the unit's UMask=0077, made the agent's own (a shell's 022 left the
  // queue and the drift file readable by anyone). The history and its backups, which its group reads
  // (`stratum1 history`), are given 0640 explicitly (src/store/store.ts, src/store/upkeep.ts).
  process.umask(process.umask(0o077) | 0o077);
  const clock = new SystemClock();
  const log = new Logger(clock, { level: cfg.logging.level, repeatPerMinute: cfg.logging.repeat_per_minute });
  // STRATUM1_PROC_ROOT: where other time daemons are looked for (tests point it at a private tree).
  const svc = new Service(cfg, { clock, simulate, log, procRoot: process.env.STRATUM1_PROC_ROOT || undefined });
  try {
    await svc.start();
  } catch (e) {
    if (e instanceof ActuatorStartError) {
      // Not a crash: a refusal the operator can act on (and systemd must not restart into).
      log.error('could not start', { error: e.message });
      io.err(`stratum1: ${e.message}\n`);
      await svc.stop('start refused');
      clock.stop();
      return 2;
    }
    log.error('could not start', { error: (e as Error).message });
    await svc.stop('start failed');
    return 1;
  }
  const listen = svc.listening.map((l) => `${l.service} ${l.protocol} ${l.address}:${l.port}`).join(', ');
  io.out(`stratum1 ${VERSION} running (pid ${process.pid}): receiver ${svc.receiverDevice}, PPS ${svc.ppsDevice}\n` +
    `listening: ${listen}\n` +
    `status: npx stratum1 status${a.values.config ? ` --config ${String(a.values.config)}` : ''}\n`);
  log.info('started', { receiver: svc.receiverDevice, pps: svc.ppsDevice, listening: svc.listening });
  process.on('uncaughtException', (e) => log.error('uncaught exception', { error: e.stack ?? String(e) }));
  // Under systemd (Type=notify, WatchdogSec): ready once everything listens, then the watchdog.
  const notifier = new SystemdNotifier();
  if (notifier.problem) log.warn(notifier.problem);
  notifier.ready(`serving: ${listen}`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info('stopping', { signal: sig });
      notifier.stopping(sig);
      void svc.stop(sig).then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  notifier.close();
  clock.stop();
  return 0;
}


interface ClientsView {
  tableSize: number; clientsKept: number; evicted: number; by: string;
  all: { total: number; lastMinute: number; lastHour: number; lastDay: number };
  clients: { address: string; total: number; lastMinute: number; lastHour: number; lastDay: number; firstSeenAgeS: number; lastSeenAgeS: number }[];
}

/** `stratum1 clients`: who uses the NTP server, from the running agent's GET /clients. */
async function cmdClients(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, url: { type: 'string' }, json: { type: 'boolean' }, top: { type: 'string' }, by: { type: 'string' } });
  const top = a.values.top === undefined ? 20 : Number(a.values.top);
  if (!Number.isInteger(top) || top < 1 || top > 100_000) throw new UsageError(`--top takes a whole number of clients from 1, not "${String(a.values.top)}"`);
  const by = (a.values.by as string | undefined) ?? 'day';
  if (!['minute', 'hour', 'day', 'total'].includes(by)) throw new UsageError(`--by takes minute, hour, day or total, not "${by}"`);
  const base = (a.values.url ? statusUrl(a.values.url as string) : `${controlBase(a.values.config as string | undefined)}/status`).replace(/\/status$/, '');
  let v: ClientsView;
  try {
    const res = await fetch(`${base}/clients?top=${top}&by=${by}`, { signal: AbortSignal.timeout(3000) });
    if (res.status === 404) throw new CliError(`the agent at ${base} keeps no clients table (NTP off, or an older agent)`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    v = (await res.json()) as ClientsView;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`no agent answered at ${base}: ${whyNot(e)}`);
  }
  if (a.values.json) {
    io.out(`${JSON.stringify(v, null, 2)}\n`);
    return 0;
  }
  io.out(`NTP requests: ${v.all.lastMinute} in the last minute (estimate), ${v.all.lastHour} in the last hour, ${v.all.lastDay} in the last day, ${v.all.total} since start\n`);
  io.out(`${v.clientsKept} clients kept (of at most ${v.tableSize}; ${v.evicted} forgotten as least recently seen), busiest by ${v.by}:\n`);
  io.out(`  ${'client'.padEnd(39)} ${'minute'.padStart(8)} ${'hour'.padStart(8)} ${'day'.padStart(9)} ${'total'.padStart(10)}  last seen  first seen\n`);
  for (const c of v.clients) {
    io.out(`  ${c.address.padEnd(39)} ${String(c.lastMinute).padStart(8)} ${String(c.lastHour).padStart(8)} ${String(c.lastDay).padStart(9)} ${String(c.total).padStart(10)}  ` +
      `${dur(c.lastSeenAgeS).padStart(9)}  ${dur(c.firstSeenAgeS).padStart(9)}\n`);
  }
  return 0;
}

/** The system actuator's line: the agent steers the kernel clock, and what the kernel says. */
function describeKernel(k: NonNullable<Status['discipline']['kernel']>): string {
  const bits = k.kernelStatus.length ? k.kernelStatus.join(' ') : 'synchronised';
  const left = k.residualNs === null || k.residualNs === undefined ? '-' : `${(k.residualNs / 1000).toFixed(3)} us`;
  return `steered by this agent (served as it is): frequency ${(k.kernelFreqPpb / 1000).toFixed(3)} ppm, ${k.kernelState}, ${bits}, ` +
    `maxerror ${k.maxerrorUs} us, ${left} left to steer, ${k.steps} step${k.steps === 1 ? '' : 's'}, ${k.leapSeconds} leap second${Math.abs(k.leapSeconds) === 1 ? '' : 's'}` +
    `${k.errors ? `, ${k.errors} refused (${k.lastError})` : ''}`;
}

async function cmdTraps(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, url: { type: 'string' } }, 1);
  const what = a.positionals[0];
  if (what !== 'test' && what !== 'resend') throw new UsageError('traps takes "test" or "resend"');
  const given = a.values.url as string | undefined;
  const base = given ? statusUrl(given).replace(/\/status$/, '') : controlBase(a.values.config as string | undefined);
  try {
    const res = await fetch(`${base}/traps/${what}`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    const j = (await res.json()) as { sent?: string[]; error?: string };
    if (j.error) {
      io.err(`stratum1: ${j.error}\n`);
      return 2;
    }
    io.out(`sent: ${(j.sent ?? []).join(', ') || 'nothing (no active fault)'}\n`);
    return 0;
  } catch (e) {
    io.err(`stratum1: no agent answered at ${base}: ${whyNot(e)}\n`);
    return 2;
  }
}

async function cmdStatus(rest: string[], io: Out): Promise<number> {
  const a = args(rest, {
    config: { type: 'string', short: 'c' }, url: { type: 'string' }, json: { type: 'boolean' },
    watch: { type: 'boolean', short: 'w' }, interval: { type: 'string' }, count: { type: 'string' },
  });
  const url = (a.values.url as string | undefined) ?? `${controlBase(a.values.config as string | undefined)}/status`;
  if (!a.values.watch) {
    if (a.values.interval !== undefined || a.values.count !== undefined) throw new UsageError('--interval and --count go with --watch');
    const st = await fetchStatus(url);
    io.out(a.values.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st));
    return 0;
  }
  if (a.values.json) throw new UsageError('--watch draws the text view; --json gives one snapshot');
  const intervalS = Number(a.values.interval ?? '1');
  if (!Number.isFinite(intervalS) || intervalS < 0.2 || intervalS > 3600) throw new UsageError(`--interval takes seconds from 0.2 to 3600, not "${String(a.values.interval)}"`);
  const count = a.values.count === undefined ? Infinity : Number(a.values.count);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--count takes a whole number of frames (1 or more), not "${String(a.values.count)}"`);
  return watchStatus(url, intervalS, count, io);
}

/**
 * `status --watch`: the status redrawn in place every interval, as gpsmon and cgps do, until Ctrl-C (or
 * --count frames). An agent that stops answering is said in the frame, and the view goes on trying.
 */
async function watchStatus(url: string, intervalS: number, count: number, io: Out): Promise<number> {
  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let frame = 0; frame < count && !stop; frame++) {
      const started = performance.now();
      let body: string;
      let at = 'no answer';
      try {
        const st = await fetchStatus(url);
        at = st.time;
        body = formatStatus(st);
      } catch (e) {
        body = `${(e as Error).message}\n(trying again)\n`;
      }
      // Home and clear, then the frame: the terminal shows one status, updated. The time is the agent's.
      io.out(`\x1b[H\x1b[2J${at}  every ${intervalS} s from ${statusUrl(url)}  (Ctrl-C to stop)\n\n${body}`);
      if (frame + 1 >= count) break;
      const wait = Math.max(0, intervalS * 1000 - (performance.now() - started));
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        const poll = setInterval(() => { if (stop) { clearTimeout(t); clearInterval(poll); r(); } }, 100);
        setTimeout(() => clearInterval(poll), wait + 10);
      });
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}

const us = (ns: number | null) => (ns === null ? null : ns / 1000);
const f = (v: number | null | undefined, digits = 1, unit = '') => (v === null || v === undefined ? '-' : `${v.toFixed(digits)}${unit}`);

function dur(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return `${d ? `${d}d ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** "simulator", not "simulator simulator"; "serial /dev/serial0" where the two differ. */
function sourceAndDevice(source: string, device: string): string {
  return device && device !== source ? `${source} ${device}` : source;
}

/** chronyc's words for the leap indicator. */
const LEAP_STATUS = ['Normal', 'Insert second', 'Delete second', 'Not synchronised'];

/** gpsd as the agent's source sees it, like gpsmon's header: its release, its device, and the offsets of
 * its last PPS and TOFF reports (the clock minus true time, as gpsd measures them). */
function gpsdLine(x: Status['gpsd']): [string, string] {
  const dev = x.devices[0];
  const rep = (name: string, t: Status['gpsd']['pps']) => (t ? `${name} ${(t.offsetNs / 1000).toFixed(1)} us (${f(t.ageS, 1, ' s')} ago)` : `${name} -`);
  return ['gpsd', `${x.where ?? '-'}: ${x.connected ? 'connected' : 'DISCONNECTED'}${x.release ? `, gpsd ${x.release}` : ''}` +
    `${dev ? `, ${dev.path}${dev.driver ? ` (${dev.driver}${dev.bps ? `, ${dev.bps} bps` : ''})` : ''}` : ''}, ${rep('PPS', x.pps)}, ${rep('TOFF', x.toff)}` +
    `${x.errors ? `, ${x.errors} errors (last: ${x.lastError ?? ''})` : ''}`];
}

export function formatStatus(st: Status): string {
  const g = st.gnss;
  const r = st.receiver;
  const p = st.pps;
  const lines: [string, string][] = [
    ['Agent', `${st.agent.name} ${st.agent.version} (pid ${st.agent.pid}), up ${dur(st.agent.uptimeS)}${st.agent.simulated ? ', SIMULATED GPS' : ''}`],
    ['Receiver', `${sourceAndDevice(r.source, r.device)}: ${r.connected ? (r.silent ? 'SILENT' : 'connected') : 'DISCONNECTED'}, last data ${f(r.lastDataAgeS, 1, ' s')} ago, ` +
      `${r.sentences} sentences, ${Object.values(r.rejected).reduce((a, b) => a + b, 0)} rejected, ${r.outages} outages${r.version ? `, firmware ${r.version}` : ''}`],
    ['Fix', `${g.fix ? g.modeName : `NONE (${g.modeName})`}, ${g.satellitesUsed} used / ${g.satellitesInView} in view` +
      `${Object.keys(g.byConstellation).length ? ` (${Object.entries(g.byConstellation).map(([c, v]) => `${c} ${v.used}/${v.inView}`).join(', ')})` : ''}` +
      `, HDOP ${f(g.hdop, 2)} PDOP ${f(g.pdop, 2)}`],
    ['GNSS time', g.utc ? `${g.utc} (received ${f(g.utcAgeS, 1, ' s')} ago)` : 'none'],
    ['Position', g.latitudeDeg === null ? '-' : `${f(g.latitudeDeg, 6)} ${f(g.longitudeDeg, 6)}${g.altitudeMslM === null ? '' : ` ${f(g.altitudeMslM, 1)} m MSL`}`],
    ['Antenna', `${g.antenna}${g.antennaFault ? ' (FAULT)' : ''}`],
    ['PPS', `${sourceAndDevice(p.source, p.device)}: ${p.present ? 'present' : 'ABSENT'}, ${p.pulses} pulses, ${p.missed} missed, ${p.extra} extra, ` +
      `jitter ${p.jitterNs === null ? '-' : `${(p.jitterNs / 1000).toFixed(2)} us`}, last edge ${f(p.lastEdgeAgeS, 2, ' s')} ago`],
    ...(st.gpsd.enabled ? [gpsdLine(st.gpsd)] : []),
    ['Clock', `${st.discipline.state} since ${st.discipline.stateSince}, stratum ${st.discipline.stratum}, LI ${st.discipline.leapIndicator}, ` +
      `refid ${st.discipline.refId}, PTP class ${st.discipline.ptpClockClass}`],
    // The offset is the served clock's; the oscillator's own offset (what the discipline removes, up to
    // hundreds of milliseconds) is labelled as such, so the two are never read as one figure.
    ['Offset', `${f(us(st.discipline.offsetNs), 3, ' us')} (served - GPS), ` +
      `error estimate ${f(us(st.discipline.timeErrorEstimateNs), 3, ' us')}` +
      `${st.discipline.holdoverElapsedS !== null ? `, holdover ${dur(st.discipline.holdoverElapsedS)}` : ''}`],
    // chronyc tracking's figures, for operators who read those.
    ['Tracking', `ref time ${st.discipline.lastSampleAtUnixS === null ? '-' : toIsoLabel(BigInt(Math.round(st.discipline.lastSampleAtUnixS * 1e3)) * 1_000_000n, false, 3)}, ` +
      `RMS offset ${f(us(st.discipline.rmsOffsetNs), 3, ' us')}, skew ${f(st.discipline.frequencySigmaPpb === null ? null : st.discipline.frequencySigmaPpb / 1000, 3, ' ppm')}, ` +
      `root delay 0 us, root dispersion ${f(st.discipline.rootDispersionS * 1e6, 3, ' us')}, update interval 1 s, leap ${LEAP_STATUS[st.discipline.leapIndicator] ?? '-'}`],
    ['Oscillator', `offset ${f(us(st.discipline.localOffsetNs), 3, ' us')} (local - GPS), ` +
      `frequency ${f(st.discipline.frequencyPpb === null ? null : st.discipline.frequencyPpb / 1000, 3, ' ppm')}`],
    ['System clock', st.discipline.kernel ? describeKernel(st.discipline.kernel) : st.host.clockOwner],
    ...(st.chronySock.enabled ? [['chronyd feed', st.chronySock.problem ? `NOT RUNNING: ${st.chronySock.problem}`
      : `${st.chronySock.path}: ${st.chronySock.connected ? 'connected' : `NOT CONNECTED${st.chronySock.lastError ? ` (${st.chronySock.lastError})` : ''}`}, ` +
      `${st.chronySock.samplesSent} samples sent, ${st.chronySock.samplesSkipped} skipped, ${st.chronySock.sendErrors} send errors, ` +
      `${st.chronySock.reconnects} reconnects`] as [string, string]] : []),
    ['Samples', `${st.discipline.samplesAccepted} accepted, ${st.discipline.samplesRejected} outliers, ${st.discipline.steps} step${st.discipline.steps === 1 ? '' : 's'}, ` +
      `NMEA delay ${f(st.discipline.nmeaDelayMs, 1, ' ms')}, ${st.discipline.servo} servo` +
      `${st.discipline.taiUtcS !== null ? `, TAI-UTC ${st.discipline.taiUtcS} s${st.discipline.leapTableExpired ? ' (leap table EXPIRED)' : ''}` : ''}`],
    ['NTP', st.ntp.enabled ? `${st.ntp.received} requests, ${st.ntp.replied} replies, ${st.ntp.requestsPerSecond} /s, ` +
      `~${st.ntp.distinctClients} clients, dropped ${Object.entries(st.ntp.dropped).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, ` +
      `${st.ntp.rxTimestamps ?? '-'} receive timestamps` : 'off'],
    ...(st.ntp.nts.enabled ? [['NTS', `${st.ntp.nts.keSessions} key exchanges (${Object.values(st.ntp.nts.keFailures).reduce((x, y) => x + y, 0)} failed), ` +
      `${st.ntp.nts.requests} requests, ${st.ntp.nts.replied} authenticated replies, ${st.ntp.nts.naks} NAKs, ` +
      `failures ${Object.entries(st.ntp.nts.failures).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, ` +
      `cookie key ${st.ntp.nts.cookieKeyAgeS === null ? '-' : dur(st.ntp.nts.cookieKeyAgeS)} old` +
      `${st.ntp.nts.certificate ? `, certificate ${st.ntp.nts.certificate.selfSigned ? 'self-signed ' : ''}${st.ntp.nts.certificate.path} to ${st.ntp.nts.certificate.validTo}` : ''}`] as [string, string]] : []),
    ['PTP', st.ptp.enabled ? `grandmaster on ${st.ptp.interface} (${st.ptp.address}), clock ${st.ptp.clockIdentity}, domain ${st.ptp.domain}, ` +
      `class ${st.ptp.clockClass}, ${st.ptp.sent.sync ?? 0} syncs, ${st.ptp.sent.delay_resp ?? 0} delay responses, ${st.ptp.rxTimestamps} timestamps` +
      `${st.ptp.betterMaster ? ', A BETTER MASTER IS ON THE DOMAIN' : ''}` : 'off'],
    ['Integrity', integrityLine(st)],
    ['Listening', st.agent.listening.map((l) => `${l.service} ${l.protocol} ${l.address}:${l.port}`).join(', ') || '-'],
  ];
  const w = Math.max(...lines.map(([k]) => k.length));
  let out = lines.map(([k, v]) => `${k.padEnd(w)} : ${v}`).join('\n') + '\n';
  if (g.satellites.length) {
    out += '\n  PRN  system    elev  azim  SNR  used\n';
    for (const s of g.satellites) {
      out += `  ${String(s.prn).padStart(3)}  ${s.constellation.padEnd(8)} ${f(s.elevationDeg, 0).padStart(5)} ${f(s.azimuthDeg, 0).padStart(5)} ${f(s.snrDbHz, 0).padStart(4)}  ${s.used ? 'yes' : ''}\n`;
    }
  }
  out += formatSources(st);
  out += formatChronyPartner(st.partners?.chrony);
  out += formatPtp4lPartner(st.partners?.ptp4l);
  const recent = st.events.recent.slice(-8);
  if (recent.length) {
    out += '\nRecent events:\n';
    for (const e of recent) {
      const { type, at, ...rest } = e;
      out += `  ${String(at)}  ${String(type)}${Object.keys(rest).length ? ' ' + JSON.stringify(rest) : ''}\n`;
    }
  }
  return out;
}

/** One line: what fails, or that all checks pass, with the jump policy. */
function integrityLine(st: Status): string {
  const ig = st.integrity;
  const on = ig.checks.filter((c) => c.enabled);
  const failing = on.filter((c) => c.failing);
  const unarmed = on.filter((c) => !c.armed).map((c) => c.name);
  const head = failing.length
    ? `FAILING: ${failing.map((c) => `${c.name} (${c.value === null ? '-' : +c.value.toPrecision(4)} ${c.units}: ${c.detail})`).join('; ')}`
    : `ok (${on.filter((c) => c.armed).map((c) => c.name).join(', ') || 'no check armed'})`;
  const jump = st.discipline.timeJumpRefused ? `, JUMP REFUSED ${st.discipline.timeJumpS} s` : '';
  return `${head}${unarmed.length ? `; learning: ${unarmed.join(', ')}` : ''}${jump}; accept_jump ${ig.acceptJump}`;
}

/** The upstream servers, as chronyc sources shows its own: the state mark, name, stratum, poll,
 * reach (octal), age of the last sample, and offset [delay] +/- root distance. */
function formatSources(st: Status): string {
  const u = st.integrity.upstream;
  if (!u.servers.length) return '';
  const mark = { majority: '*', falseticker: 'x', candidate: '?', unfit: '~', unreachable: '-', refused: '!', polling: ' ' } as const;
  const t = (v: number | null) => {
    if (v === null) return '-';
    const a = Math.abs(v);
    return a >= 1 ? `${v.toFixed(3)}s` : a >= 1e-3 ? `${(v * 1e3).toFixed(3)}ms` : `${(v * 1e6).toFixed(0)}us`;
  };
  let out = `\nUpstream servers: ${u.majority ? `${u.majority.members.length} of ${u.configured} agree` : `no majority (${u.required} of ${u.configured} must agree)`}` +
    `${u.receiverMinusMajorityS !== null ? `; receiver - majority ${t(u.receiverMinusMajorityS)}` : ''}\n`;
  out += '  S Name                       Str Poll Reach LastRx  Offset [delay] +/- distance\n';
  for (const x of u.servers) {
    out += `  ${mark[x.state]} ${x.name.slice(0, 26).padEnd(26)} ${String(x.stratum ?? '-').padStart(3)} ${String(x.pollS).padStart(4)} ${x.reach.toString(8).padStart(5)} ` +
      `${(x.lastSampleAgeS === null ? '-' : `${Math.round(x.lastSampleAgeS)}s`).padStart(6)}  ${t(x.offsetS)} [${t(x.delayS)}] +/- ${t(x.rootDistanceS)}\n`;
  }
  return out;
}

async function cmdReplay(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { json: { type: 'boolean' }, check: { type: 'string' }, 'min-date': { type: 'string' } }, 1);
  const file = a.positionals[0];
  if (!file) throw new UsageError('replay needs a capture file');
  const minDate = a.values['min-date'] as string | undefined;
  if (minDate !== undefined && !/^\d{4}-\d\d-\d\d$/.test(minDate)) throw new UsageError('--min-date takes YYYY-MM-DD');
  const opts = minDate ? { minValidDate: BigInt(Date.parse(`${minDate}T00:00:00Z`)) * 1_000_000n } : {};
  const print = (e: Epoch & { rejectedLines: number }) => {
    if (a.values.json) {
      io.out(JSON.stringify({
        time: toIsoLabel(e.time, e.leapSecond, 3), mode: e.mode, lat: e.lat ?? null, lon: e.lon ?? null, altMSL: e.altMsl ?? null,
        uSat: e.satellitesUsed, nSat: e.satellitesInView, rejected: e.rejectedLines,
      }) + '\n');
    } else {
      io.out(`${toIsoLabel(e.time, e.leapSecond, 3)}  ${(FixMode[e.mode] ?? '?').padEnd(7)} ${e.lat === undefined ? '           -' : e.lat.toFixed(9).padStart(13)} ` +
        `${e.lon === undefined ? '            -' : e.lon.toFixed(9).padStart(14)} ${e.altMsl === undefined ? '       -' : e.altMsl.toFixed(1).padStart(8)}  ` +
        `sats ${String(e.satellitesUsed).padStart(2)}/${String(e.satellitesInView).padStart(2)}  rejected ${e.rejectedLines}\n`);
    }
  };
  const summary = (epochs: number, lines: number, rejected: number, junk: number, dates: string[]) =>
    io.err(`${epochs} epochs, ${lines} lines (${rejected} rejected), ${junk} junk lines` +
      `${dates.length ? `, refused dates: ${[...new Set(dates)].join(' ')}` : ''}\n`);
  const chkFile = a.values.check as string | undefined;
  if (!chkFile) {
    // Streamed: a capture of any size in the memory of a few chunks.
    const s = new ReplayStream(opts, { epoch: print });
    try {
      for await (const chunk of createReadStream(file, { encoding: 'latin1', highWaterMark: 256 * 1024 })) s.push(chunk as string);
    } catch (e) {
      io.err(`stratum1: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 2;
    }
    s.finish();
    summary(s.stats.epochs, s.stats.lines, s.stats.rejected, s.junkLines, s.stats.datesRejected);
    return 0;
  }
  // Compared with gpsd's regression file: every line is needed, so the capture is held whole.
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    io.err(`stratum1: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 2;
  }
  const r = replayCapture(text, opts);
  for (const e of r.epochs) print(e);
  summary(r.epochs.length, r.lines.length, r.lines.filter((l) => !l.accepted).length, r.junkLines, r.datesRejected);
  {
    let chk: string;
    try {
      chk = readFileSync(chkFile, 'latin1');
    } catch (e) {
      io.err(`stratum1: cannot read ${chkFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 2;
    }
    const cmp = compareWithChk(r, parseChk(chk));
    const c = classify(basename(file), cmp);
    io.err(`compared with ${chkFile}: ${cmp.epochsCompared} epochs, ${cmp.skiesCompared} sky reports, ${cmp.linesCompared} lines: ` +
      `${c.unexplained.length} differences, ${c.deliberate.length} deliberate\n`);
    for (const d of c.deliberate) io.err(`  deliberate: ${describeDifference(d.d)}: ${d.reason}\n`);
    for (const d of c.unexplained) io.err(`  DIFFERENT: ${describeDifference(d)}\n`);
    return c.unexplained.length ? 1 : 0;
  }
  return 0;
}

function cmdCheckConfig(rest: string[], io: Out): number {
  const a = args(rest, {}, 1);
  const file = a.positionals[0];
  if (!file) throw new UsageError('check-config needs a file');
  const cfg = loadConfig(file);
  io.out(`${file}: OK (receiver ${cfg.receiver.source}, PPS ${cfg.pps.source}, status on ${cfg.control.http.address}:${cfg.control.http.port})\n`);
  return 0;
}
