/**
 * The seed's stack for monitor-only mode, made private for a test or a bench, and the agent watching
 * it with config/monitor-only.yaml:
 *  - gpsd, started by gpsfake on a free loopback port, replaying a corpus capture in a loop (-c: one
 *    sentence every 40 ms, about an epoch a second);
 *  - chronyd, the one watched (test/helpers/chronyd.ts: `-x`, it never touches this machine's clock;
 *    a private directory, config, pid file, drift file and command socket; its command port on a free
 *    loopback port), whose source is a second chronyd (`local stratum 1`) serving NTP on loopback;
 *  - ptp4l as a grandmaster (masterOnly, free_running) in a network namespace of its own, without
 *    CAP_SYS_TIME (test/helpers/ptp4l.ts), its management socket in the private directory;
 *  - the agent (bin/stratum1.js run, no --simulate), with config/monitor-only.yaml where only ports,
 *    sockets, paths, poll intervals, alarm delays, the log level and the oldest date the capture
 *    needs are changed (`adapted` lists them).
 * Everything is ended by its PID (gpsfake by its process group, which holds the gpsd it started).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN } from './agent.ts';
import { CORPUS, ROOT } from './env.ts';
import { netPair, type NetPair } from './netns.ts';
import { ntpQuery } from './ntp.ts';
import { freeTcpPort, freeUdpPort } from './ports.ts';
import { ptp4l, type Ptp4l } from './ptp4l.ts';
import { chronyd, type Chronyd } from './chronyd.ts';
import type { Status } from '../../src/status/status.ts';

/** A YAML mapping, as parsed. */
export type Config = { [k: string]: unknown };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const MONITOR_CONFIG = resolve(ROOT, 'config/monitor-only.yaml');
/** A 2020 capture with five constellations (Debian's gpsd 3.22 moves pre-2017 dates; see the corpus notes). */
export const MONITOR_CAPTURE = resolve(CORPUS, 'ublox-neo-m9n-nmea.log');

export interface MonitorAgent {
  proc: ChildProcess;
  statusUrl: string;
  metricsUrl: string | null;
  output(): string;
  status(): Promise<Status>;
  waitFor(pred: (s: Status) => boolean, ms: number, what: string): Promise<Status>;
  stop(): Promise<void>;
}

async function startMonitorAgent(configFile: string): Promise<MonitorAgent> {
  const proc = spawn(process.execPath, [BIN, 'run', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out = (out + d).slice(-200_000); });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { out = (out + d).slice(-200_000); });
  const deadline = Date.now() + 20_000;
  while (!/^listening: .*\n/m.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL'); // not left running behind a failed start
      throw new Error(`the agent did not start: ${out}`);
    }
    await sleep(50);
  }
  const line = /^listening: (.*)$/m.exec(out)![1]!;
  const ctl = /control-http tcp (\S+):(\d+)/.exec(line)!;
  const prom = /prometheus tcp (\S+):(\d+)/.exec(line);
  const statusUrl = `http://${ctl[1]}:${ctl[2]}/status`;
  const status = async () => (await (await fetch(statusUrl)).json()) as Status;
  return {
    proc, statusUrl, metricsUrl: prom ? `http://${prom[1]}:${prom[2]}/metrics` : null, output: () => out, status,
    async waitFor(pred, ms, what) {
      const end = Date.now() + ms;
      for (;;) {
        const s = await status();
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(250);
      }
    },
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => { clearTimeout(t); res(); });
      proc.kill('SIGTERM');
    }),
  };
}

export interface MonitorStack {
  dir: string;
  agent: MonitorAgent;
  /** The agent's configuration as written (config/monitor-only.yaml, adapted), and what was changed. */
  config: Config;
  adapted: string[];
  gpsdPort: number;
  gpsfake: ChildProcess;
  /** gpsd's PID (gpsfake's child), once found. */
  gpsdPid(): number | undefined;
  /** The chronyd the agent watches (chronyc over its socket: .chronyc), its command port, and its source. */
  chronyd: Chronyd;
  chronydCmdPort: number;
  chronydSource: Chronyd;
  ptp4l: Ptp4l;
  ptp4lSocket: string;
  snmpPort: number;
  stop(): Promise<void>;
}

/** Starts the stack and the agent; on any failure, what started is stopped before the error is thrown. */
/** `watch: false` (benches only): the partners off, to measure the agent without them beside the same stack. */
export async function startMonitorStack(o: { pollS?: number; logLevel?: string; watch?: boolean } = {}): Promise<MonitorStack> {
  const dir = mkdtempSync(join(tmpdir(), 'monitor-only-'));
  chmodSync(dir, 0o700); // chronyd refuses a command socket in a directory others can enter
  const stops: (() => Promise<void> | void)[] = [];
  let net: NetPair | undefined;
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try { await s(); } catch { /* the rest still stop */ }
    }
    stops.length = 0;
    net?.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // gpsd under gpsfake, in its own process group so that both end together.
    const gpsdPort = await freeTcpPort();
    const gf = spawn('gpsfake', ['-q', '-c', '0.04', '-P', String(gpsdPort), MONITOR_CAPTURE], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let gfErr = '';
    gf.stderr!.setEncoding('utf8').on('data', (d: string) => { gfErr = (gfErr + d).slice(-4000); });
    stops.push(async () => {
      const exited = new Promise((r) => (gf.exitCode !== null || gf.signalCode !== null ? r(null) : gf.once('exit', r)));
      try { process.kill(-gf.pid!, 'SIGTERM'); } catch { /* already gone */ }
      const t = setTimeout(() => { try { process.kill(-gf.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
      await exited;
      clearTimeout(t);
    });
    const gpsdPid = () => {
      try {
        const kids = readFileSync(`/proc/${gf.pid}/task/${gf.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        return kids.find((k) => { try { return readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'gpsd'; } catch { return false; } });
      } catch {
        return undefined;
      }
    };

    // chronyd's source: a chronyd serving its own clock at stratum 1 on loopback.
    const ntpPort = await freeUdpPort();
    const source = chronyd('source chronyd', join(dir, 'source'), ['local stratum 1', 'allow 127.0.0.1', 'bindaddress 127.0.0.1', `port ${ntpPort}`]);
    await source.start();
    stops.push(() => source.stop());
    const end = Date.now() + 10_000;
    while (!(await ntpQuery(ntpPort, 300).then(() => true, () => false))) {
      if (Date.now() > end) throw new Error(`the source chronyd does not serve NTP:\n${source.output()}`);
      await sleep(100);
    }
    // The chronyd the agent watches (its command port too: the agent falls back to it).
    const cmdPort = await freeUdpPort();
    const watched = chronyd('watched chronyd', join(dir, 'chronyd'), [`server 127.0.0.1 port ${ntpPort} iburst minpoll 0 maxpoll 0`, 'port 0'], { cmdPort });
    await watched.start();
    stops.push(() => watched.stop());

    // ptp4l, a grandmaster alone on its link.
    net = netPair('mon');
    const ptp4lSocket = join(dir, 'ptp4l');
    writeFileSync(join(dir, 'ptp4l.conf'), ['[global]', 'masterOnly 1', 'free_running 1', 'clockClass 6', 'clockAccuracy 0x21', 'timeSource 0x20',
      `uds_address ${ptp4lSocket}`, 'logging_level 6', ''].join('\n'));
    const gm = ptp4l(net, 'a', join(dir, 'ptp4l.conf'));
    await gm.start();
    stops.push(() => gm.stop());

    // The agent, with config/monitor-only.yaml made private.
    const config = parse(readFileSync(MONITOR_CONFIG, 'utf8')) as MonitorStack['config'];
    const snmpPort = await freeUdpPort();
    const pollS = o.pollS ?? 1;
    const adapted: string[] = [];
    const set = (path: string, v: unknown) => {
      const keys = path.split('.');
      let x = config;
      for (const k of keys.slice(0, -1)) x = (x[k] ??= {}) as Config;
      x[keys.at(-1)!] = v;
      adapted.push(path);
    };
    set('agent.state_dir', join(dir, 'state'));
    set('receiver.gpsd.port', gpsdPort);
    set('receiver.min_valid_date', '2019-01-01'); // the capture is from 2020
    set('partners.chrony.socket', watched.cmdSock);
    set('partners.chrony.port', cmdPort);
    set('partners.chrony.poll_s', pollS);
    set('partners.ptp4l.socket', ptp4lSocket);
    set('partners.ptp4l.poll_s', pollS);
    set('snmp.port', snmpPort);
    set('prometheus.port', 0);
    set('control.http.port', 0);
    for (const rule of ['chrony_unreachable', 'chrony_unsynchronised', 'ptp4l_unreachable', 'ptp4l_port_state']) {
      set(`alarms.${rule}.raise_after_s`, 1);
      set(`alarms.${rule}.clear_after_s`, 1);
    }
    set('logging.level', o.logLevel ?? 'warn');
    if (o.watch === false) {
      set('partners.chrony.enabled', false);
      set('partners.ptp4l.enabled', false);
    }
    const cfgFile = join(dir, 'agent.yaml');
    writeFileSync(cfgFile, stringify(config));
    const agent = await startMonitorAgent(cfgFile);
    stops.push(() => agent.stop());
    if (gf.exitCode !== null) throw new Error(`gpsfake exited: ${gfErr}`);
    return {
      dir, agent, config, adapted, gpsdPort, gpsfake: gf, gpsdPid, chronyd: watched, chronydCmdPort: cmdPort, chronydSource: source,
      ptp4l: gm, ptp4lSocket, snmpPort, stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** A process's UDP and TCP sockets, from /proc/PID/fd and /proc/PID/net/{udp,udp6,tcp,tcp6}. */
export function socketsOf(pid: number): { proto: 'udp' | 'tcp'; localPort: number; remotePort: number; listening: boolean }[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed since */ }
  }
  const out: ReturnType<typeof socketsOf> = [];
  for (const table of ['udp', 'udp6', 'tcp', 'tcp6']) {
    const file = `/proc/${pid}/net/${table}`;
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const port = (a: string) => parseInt(a.split(':').at(-1)!, 16);
      const proto = table.startsWith('udp') ? 'udp' : 'tcp';
      // TCP state 0A: LISTEN. A UDP socket with no remote port is unconnected: it receives from anyone.
      out.push({ proto, localPort: port(f[1]!), remotePort: port(f[2]!), listening: proto === 'tcp' ? f[3] === '0A' : port(f[2]!) === 0 });
    }
  }
  return out;
}
