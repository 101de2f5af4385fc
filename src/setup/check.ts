/**
 * `stratum1 setup check`: is this Pi ready for the agent? Four questions, one line each, with what to do
 * when the answer is no: is the UART free, does the kernel's PPS tick, does NMEA arrive, and does the
 * program the configuration expects steer the system clock. The judges are pure (given what was read,
 * the verdict); the readers below them look at files under a root directory (`--root`, for tests:
 * /proc, /sys/class/pps and the serial device are all found under it) and at the serial port.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { Config } from '../config/config.ts';
import { LineFramer } from '../gnss/framer.ts';
import { parseSentence } from '../gnss/nmea.ts';
import { parseSysfsTimestamp } from '../pps/edge.ts';
import { findClockDaemons, type ClockDaemon } from '../discipline/clock-owner.ts';
import { BOOT_DIRS, ppsPinOf, serialConsoles } from './plan.ts';

export interface CheckLine {
  name: 'uart' | 'pps' | 'nmea' | 'clock';
  result: 'ok' | 'FAIL' | 'skip';
  detail: string;
  /** What to do when it fails. */
  fix?: string;
}

export function formatCheckLine(l: CheckLine): string {
  return `${l.result.padEnd(4)} ${l.name.padEnd(5)} ${l.detail}${l.result === 'FAIL' && l.fix ? `; to fix: ${l.fix}` : ''}\n`;
}

/** A process as /proc shows it. */
export interface Proc { pid: number; comm: string; args: string[]; fds: string[] }

// ---------------------------------------------------------------------------------------------
// Judges (pure)

export interface UartFacts {
  receiverSource: Config['receiver']['source'];
  device: string;
  /** Whether the device (or what its link points to) exists. */
  deviceExists: boolean;
  cmdlinePath: string | undefined;
  cmdline: string | undefined;
  /** The PPS pin config.txt names (undefined: no pps-gpio overlay). */
  ppsPin: number | undefined;
  /** getty processes on a serial port (agetty ttyAMA0 ...). */
  gettys: Proc[];
  /** Processes with the serial device open. */
  holders: Proc[];
  /** gpsd processes. */
  gpsd: Proc[];
  /** The agent (stratum1 run) processes. */
  agents: Proc[];
}

export function judgeUart(u: UartFacts): CheckLine {
  const name = 'uart';
  if (u.receiverSource === 'simulator') return { name, result: 'skip', detail: 'receiver.source is simulator: no serial port' };
  const problems: string[] = [];
  const fixes: string[] = [];
  if (!u.deviceExists && u.receiverSource === 'serial') {
    problems.push(`no ${u.device}: the UART is off`);
    fixes.push('enable_uart=1 in config.txt (stratum1 setup pi) and reboot; or set receiver.serial.device to the GPS\'s port');
  }
  const consoles = u.cmdline === undefined ? [] : serialConsoles(u.cmdline);
  if (consoles.length) {
    problems.push(`the kernel console is on the serial port (${consoles.join(' ')} in ${u.cmdlinePath})`);
    fixes.push(`remove ${consoles.join(' ')} from ${u.cmdlinePath} (stratum1 setup pi does) and reboot`);
  }
  if (u.gettys.length) {
    problems.push(`a login prompt listens on it (${u.gettys.map((p) => `${p.comm} ${p.args.join(' ')} pid ${p.pid}`).join('; ')})`);
    fixes.push('systemctl disable --now serial-getty@ttyAMA0.service serial-getty@ttyS0.service');
  }
  const others = u.holders.filter((p) => !u.agents.some((a) => a.pid === p.pid) && !(u.receiverSource === 'gpsd' && p.comm === 'gpsd'));
  if (u.receiverSource === 'serial' && u.gpsd.length) {
    problems.push(`gpsd runs (pid ${u.gpsd.map((p) => p.pid).join(', ')}) while the agent reads the port itself`);
    fixes.push('systemctl disable --now gpsd.socket gpsd.service (or stratum1 setup pi --keep-gpsd, for gpsd as the agent\'s source)');
  }
  const notGpsd = others.filter((p) => !(u.receiverSource === 'serial' && p.comm === 'gpsd'));
  if (notGpsd.length) {
    problems.push(`${u.device} is held by ${notGpsd.map((p) => `${p.comm} (pid ${p.pid})`).join(', ')}`);
    fixes.push(`stop ${notGpsd.map((p) => p.comm).join(', ')}`);
  }
  if (problems.length) return { name, result: 'FAIL', detail: problems.join('; '), fix: fixes.join('; ') };
  const held = u.holders.length ? `, open in ${u.holders.map((p) => `${p.comm} (pid ${p.pid})`).join(', ')}` : '';
  const boot = u.cmdlinePath ? 'no serial console' : 'no cmdline.txt found (not a Raspberry Pi OS boot partition)';
  return { name, result: 'ok', detail: `${u.device} is free for ${u.receiverSource === 'gpsd' ? 'gpsd' : 'the agent'}: ${boot}, no getty${held}` };
}

/**
 * Does the kernel PPS tick? Two reads of the assert file ("SECONDS.NANOS#SEQUENCE") `intervalS` apart:
 * the sequence must have moved, and by one a second of the kernel's own timestamps of those edges
 * (so a late second read cannot make a good PPS look bad: the edges carry their own times).
 */
export function judgePps(path: string, first: string | Error, second: string | Error, intervalS: number, pin: number | undefined = 4): CheckLine {
  const name = 'pps';
  const overlay = `dtoverlay=pps-gpio,gpiopin=${pin ?? 4} in config.txt (stratum1 setup pi) and reboot`;
  for (const r of [first, second]) {
    if (r instanceof Error) {
      const code = (r as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? { name, result: 'FAIL', detail: `no ${path}: the kernel has no PPS device`, fix: overlay }
        : { name, result: 'FAIL', detail: `cannot read ${path}: ${code ?? r.message}`, fix: 'run the check as root or as the agent\'s user' };
    }
  }
  let a: ReturnType<typeof parseSysfsTimestamp>;
  let b: ReturnType<typeof parseSysfsTimestamp>;
  try {
    a = parseSysfsTimestamp(first as string);
    b = parseSysfsTimestamp(second as string);
  } catch (e) {
    return { name, result: 'FAIL', detail: `${path}: ${(e as Error).message}`, fix: 'is this a PPS device? (pps.device in the config)' };
  }
  const noPulse = 'the GPS pulses only with a fix (the Adafruit module\'s FIX LED blinks once in 15 s when it has one): give the antenna sky; ' +
    `check the PPS wire to GPIO ${pin ?? 4} and ${overlay.replace(' and reboot', '')}`;
  if (!b) return { name, result: 'FAIL', detail: `${path}: no pulse since boot`, fix: noPulse };
  if (!a || b.sequence === a.sequence) {
    return { name, result: 'FAIL', detail: `${path}: no pulse in ${intervalS} s (sequence stays ${b.sequence})`, fix: noPulse };
  }
  const pulses = b.sequence - a.sequence;
  const spanS = Number(b.time - a.time) / 1e9;
  const perPulseS = spanS / pulses;
  if (pulses < 0 || Math.abs(perPulseS - 1) > 0.1) {
    return {
      name, result: 'FAIL', detail: `${path}: ${pulses} pulses in ${spanS.toFixed(3)} s of edges (${perPulseS.toFixed(3)} s apart), not one a second`,
      fix: `a noisy, floating or shared line: check the PPS wire and the pin (GPIO ${pin ?? 4})`,
    };
  }
  return { name, result: 'ok', detail: `${path} ticks: sequence ${a.sequence} -> ${b.sequence}, ${perPulseS.toFixed(6)} s apart` };
}

export interface NmeaFacts {
  device: string;
  baud: number;
  seconds: number;
  bytes: number;
  lines: string[];
  /** The port could not be opened or read. */
  error?: string;
}

/** Does NMEA arrive: a checksummed RMC or GGA sentence (any talker) among the lines read. */
export function judgeNmea(n: NmeaFacts): CheckLine {
  const name = 'nmea';
  if (n.error) return { name, result: 'FAIL', detail: `cannot read ${n.device}: ${n.error}`, fix: 'enable_uart=1 in config.txt (stratum1 setup pi) and reboot; the agent\'s user must be in dialout' };
  let good = 0;
  let found: { type: string; talker: string; valid: boolean | undefined } | undefined;
  for (const l of n.lines) {
    const r = parseSentence(l);
    if (!r.ok) continue;
    good++;
    const s = r.sentence;
    if (!found && (s.type === 'RMC' || s.type === 'GGA')) {
      found = { type: s.type, talker: (s as { talker: string }).talker, valid: s.type === 'RMC' ? s.valid : (s.quality ?? 0) > 0 };
    }
  }
  if (found) {
    return { name, result: 'ok', detail: `${n.device}: $${found.talker}${found.type} arrives${found.valid ? ', with a fix' : ', no fix yet'} (${good} good sentence${good === 1 ? '' : 's'} read)` };
  }
  if (n.bytes === 0) {
    return { name, result: 'FAIL', detail: `${n.device}: nothing in ${n.seconds} s`, fix: 'check the wiring (GPS TX to the Pi\'s RX, GPIO 15; power), enable_uart=1 and no serial console (stratum1 setup pi)' };
  }
  const badSum = n.lines.filter((l) => { const r = parseSentence(l); return !r.ok && r.error.kind === 'bad-checksum'; }).length;
  return {
    name, result: 'FAIL', detail: `${n.device}: ${n.bytes} bytes in ${n.seconds} s but no checksummed RMC or GGA (${n.lines.length} lines, ${good} good, ${badSum} with a wrong checksum)`,
    fix: n.lines.length === 0 || good === 0 && badSum === 0
      ? `a wrong baud rate (receiver.serial.baud is ${n.baud}), or not a GPS on this port`
      : badSum > 0 ? 'sentences arrive damaged: another program reading the port at the same time, or noise on the line'
        : 'the receiver sends no RMC or GGA: its sentence set (receiver.serial.configure_mtk sets it on an MTK3339)',
  };
}

/** Who the configuration says steers the system clock, against who does. */
export function judgeClockOwner(daemons: readonly ClockDaemon[], cfg: Config): CheckLine {
  const name = 'clock';
  const steering = daemons.filter((d) => d.steers);
  const who = steering.map((d) => `${d.name} (pid ${d.pid})`).join(', ');
  // discipline.actuator system: the agent is the time daemon, and nobody else may steer (it refuses to
  // start beside one). Otherwise the agent never steers the clock; someone else must.
  if (cfg.discipline.actuator === 'system') {
    if (steering.length === 0) return { name, result: 'ok', detail: 'no other program steers the system clock: the agent does (discipline.actuator system)' };
    return {
      name, result: 'FAIL', detail: `discipline.actuator is system, but ${who} steers the system clock too (the agent refuses to start beside it)`,
      fix: `stop and disable ${steering.map((d) => d.name).join(', ')} (e.g. systemctl disable --now chrony), or set discipline.actuator: none (docs/DEPLOYMENT.md)`,
    };
  }
  const wantChrony = cfg.export.chrony_sock !== '' || cfg.partners.chrony.enabled;
  const why = cfg.export.chrony_sock !== '' ? 'export.chrony_sock feeds chronyd' : cfg.partners.chrony.enabled ? 'partners.chrony.enabled reads chronyd' : '';
  if (steering.length === 0) {
    return {
      name, result: 'FAIL', detail: `nobody steers the system clock (discipline.actuator ${cfg.discipline.actuator}: the agent does not)`,
      fix: wantChrony ? 'start chronyd (systemctl enable --now chrony)' : 'run chronyd (docs/DEPLOYMENT.md: way (b), chronyd fed by the agent through export.chrony_sock)',
    };
  }
  if (steering.length > 1) {
    return { name, result: 'FAIL', detail: `several programs steer the system clock: ${who}`, fix: 'keep one (docs/DEPLOYMENT.md); e.g. systemctl disable --now systemd-timesyncd' };
  }
  if (wantChrony && steering[0]!.name !== 'chronyd') {
    return { name, result: 'FAIL', detail: `${who} steers the system clock, but ${why}: chronyd should`, fix: `stop ${steering[0]!.name} and run chronyd (docs/DEPLOYMENT.md)` };
  }
  return { name, result: 'ok', detail: `the system clock is steered by ${who}${wantChrony ? `, as the config says (${why})` : ''}; the agent does not steer it (discipline.actuator ${cfg.discipline.actuator})` };
}

// ---------------------------------------------------------------------------------------------
// Readers

/** The processes under a /proc root: name, arguments and open files (what is readable). */
export function readProcs(procRoot: string): Proc[] {
  let names: string[];
  try {
    names = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: Proc[] = [];
  for (const d of names) {
    let comm: string;
    try {
      comm = readFileSync(join(procRoot, d, 'comm'), 'utf8').trim();
    } catch {
      continue;
    }
    let args: string[] = [];
    try {
      args = readFileSync(join(procRoot, d, 'cmdline'), 'latin1').split('\0').filter(Boolean);
    } catch { /* unreadable: judged by name */ }
    const fds: string[] = [];
    try {
      for (const fd of readdirSync(join(procRoot, d, 'fd'))) {
        try {
          fds.push(readlinkSync(join(procRoot, d, 'fd', fd)));
        } catch { /* closed meanwhile */ }
      }
    } catch { /* another user's: not ours to see */ }
    out.push({ pid: Number(d), comm, args, fds });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

const inRoot = (root: string, p: string) => (root === '/' ? p : join(root, p));
const realOr = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

export function uartFacts(root: string, cfg: Config, procs: Proc[]): UartFacts {
  let configTxt = '';
  const bootDir = BOOT_DIRS.find((d) => {
    try {
      configTxt = readFileSync(inRoot(root, `${d}/config.txt`), 'utf8');
      return !/moved to \/boot\/firmware/i.test(configTxt);
    } catch {
      return false;
    }
  });
  const cmdlinePath = bootDir ? `${bootDir}/cmdline.txt` : undefined;
  let cmdline: string | undefined;
  try {
    cmdline = cmdlinePath ? readFileSync(inRoot(root, cmdlinePath), 'utf8') : undefined;
  } catch { /* none */ }
  const device = cfg.receiver.serial.device;
  const target = realOr(inRoot(root, device));
  const self = process.pid;
  return {
    receiverSource: cfg.receiver.source,
    device,
    deviceExists: existsSync(inRoot(root, device)),
    cmdlinePath,
    cmdline,
    ppsPin: bootDir ? ppsPinOf(configTxt) : undefined,
    gettys: procs.filter((p) => /getty$/.test(p.comm) && p.args.some((a) => /^(\/dev\/)?(ttyAMA\d|ttyS\d|serial\d)$/.test(a))),
    holders: procs.filter((p) => p.pid !== self && p.fds.some((f) => f === device || realOr(inRoot(root, f)) === target)),
    gpsd: procs.filter((p) => p.comm === 'gpsd'),
    agents: procs.filter((p) => p.pid !== self && p.args.some((a) => /stratum1(\.js)?$/.test(a)) && p.args.includes('run')),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readTwice(path: string, intervalMs: number): Promise<[string | Error, string | Error]> {
  const read = () => {
    try {
      return readFileSync(path, 'latin1');
    } catch (e) {
      return e as Error;
    }
  };
  const a = read();
  if (a instanceof Error) return [a, a];
  await sleep(intervalMs);
  return [a, read()];
}

/** Reads the serial port for up to `seconds` (less once an RMC or GGA has come). */
export function readNmea(path: string, device: string, baud: number, seconds: number): Promise<NmeaFacts> {
  return new Promise((resolve) => {
    const framer = new LineFramer();
    const facts: NmeaFacts = { device, baud, seconds, bytes: 0, lines: [] };
    const port = new SerialPort({ path, baudRate: baud, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false, lock: false });
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) facts.error = error;
      if (port.isOpen) port.close(() => resolve(facts));
      else resolve(facts);
    };
    const timer = setTimeout(() => finish(), seconds * 1000);
    port.on('data', (chunk: Buffer) => {
      facts.bytes += chunk.length;
      for (const l of framer.push(chunk)) {
        facts.lines.push(l);
        const r = parseSentence(l);
        if (r.ok && (r.sentence.type === 'RMC' || r.sentence.type === 'GGA')) finish();
      }
    });
    port.on('error', (e: Error) => finish(e.message.replace(/^Error: /, '')));
    port.open((err) => {
      if (err) finish(err.message.replace(/^Error: /, ''));
    });
  });
}

export interface CheckOptions {
  root: string;
  cfg: Config;
  /** Between the two reads of the PPS assert file. */
  ppsIntervalMs?: number;
  nmeaSeconds?: number;
}

/** All four checks, in order. */
export async function runChecks(o: CheckOptions): Promise<CheckLine[]> {
  const { root, cfg } = o;
  const procs = readProcs(inRoot(root, '/proc'));
  const uart = uartFacts(root, cfg, procs);
  const ppsMs = o.ppsIntervalMs ?? 1200;
  const ppsPath = join(cfg.pps.sysfs_root, cfg.pps.device, 'assert');
  const pps: Promise<CheckLine> = cfg.pps.source === 'kernel' || cfg.pps.source === 'gpsd'
    ? readTwice(inRoot(root, ppsPath), ppsMs).then(([a, b]) => judgePps(ppsPath, a, b, ppsMs / 1000, uart.ppsPin))
    : Promise.resolve({ name: 'pps', result: 'skip', detail: `pps.source is ${cfg.pps.source}: no kernel PPS to read` });
  let nmea: Promise<CheckLine>;
  if (cfg.receiver.source !== 'serial') {
    nmea = Promise.resolve({ name: 'nmea', result: 'skip', detail: cfg.receiver.source === 'gpsd' ? 'receiver.source is gpsd, which reads the port (gpspipe -r shows its NMEA)' : 'receiver.source is simulator' });
  } else if (uart.agents.some((a) => uart.holders.includes(a))) {
    nmea = Promise.resolve({ name: 'nmea', result: 'skip', detail: `the agent (pid ${uart.agents.map((a) => a.pid).join(', ')}) reads ${uart.device}: stratum1 status shows what arrives` });
  } else {
    nmea = readNmea(inRoot(root, cfg.receiver.serial.device), cfg.receiver.serial.device, cfg.receiver.serial.baud, o.nmeaSeconds ?? 3).then(judgeNmea);
  }
  const clock = judgeClockOwner(findClockDaemons(inRoot(root, '/proc')), cfg);
  return [judgeUart(uart), await pps, await nmea, clock];
}
