/**
 * `stratum1 setup pi`, the pure part: given what the target system holds now (file contents, users,
 * unit states) and the options, the list of changes that makes it a Stratum 1 the way the seed set one
 * up. No I/O here: apply.ts gathers the state and carries the plan out, and the dry run prints the same
 * plan, so what the dry run shows is what the real run does. Planning from a state the plan has already
 * been applied to gives no change: the setup is idempotent.
 *
 * Paths in a plan are the target system's own (/boot/firmware/config.txt); under `--root DIR` the
 * applier puts DIR in front of them, and the commands get their own way of saying so
 * (`systemctl --root=DIR`, `useradd --prefix DIR`).
 */
import { isMap, isSeq, parse, parseDocument } from 'yaml';
import { unifiedDiff } from './diff.ts';

export const USER = 'stratum1';
export const CONFIG_DIR = '/etc/stratum1';
export const CONFIG_FILE = '/etc/stratum1/stratum1.yaml';
export const STATE_DIR = '/var/lib/stratum1';
export const UNIT_NAME = 'stratum1-agent.service';
export const UNIT_FILE = `/etc/systemd/system/${UNIT_NAME}`;
export const GPSD_DEFAULTS = '/etc/default/gpsd';
/** Where the unit in systemd/ expects the agent; replaced by where it really is. */
export const UNIT_APP_DIR = '/opt/stratum1-agent';
/** Raspberry Pi OS Bookworm and later mount the boot partition here; Bullseye and before at /boot. */
export const BOOT_DIRS = ['/boot/firmware', '/boot'] as const;
export const BACKUP_SUFFIX = '.stratum1-backup';

export interface PiOptions {
  /** The BCM GPIO of the PPS line (the Adafruit HAT: 4). */
  ppsPin: number;
  disableWifi: boolean;
  /** Keep gpsd on the serial port and make it the agent's receiver and PPS source. */
  keepGpsd: boolean;
}

export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
}

/** What the target system holds now, as apply.ts reads it. */
export interface PiState {
  /** '/' for this system, or the directory given with --root. */
  root: string;
  /** Contents of the files the plan reads, by target path; undefined: no such file. */
  files: Record<string, string | undefined>;
  /** Mode and owner of the config file and the state directory, by target path; undefined: absent. */
  stats: Record<string, FileStat | undefined>;
  /** Directories that exist (by target path). */
  dirs: Record<string, boolean>;
  /** `systemctl is-enabled` of each unit the plan may change ('enabled', 'disabled', 'not-found' ...). */
  unitEnabled: Record<string, string>;
  /** `systemctl is-active` of each (only on the running system, not under --root). */
  unitActive: Record<string, boolean>;
  /** config/stratum1.example.yaml and systemd/stratum1-agent.service, and where the agent lives. */
  exampleConfig: string;
  unitTemplate: string;
  appDir: string;
  /** Secrets for a new config (made by the caller from a crypto random source). */
  secrets: { authKey: string; privKey: string; community: string };
}

export type Step =
  | { kind: 'write'; path: string; before: string | undefined; after: string; mode?: number; why: string }
  | { kind: 'mkdir'; path: string; mode: number; why: string }
  | { kind: 'chmod'; path: string; mode: number; why: string }
  | { kind: 'run'; argv: string[]; why: string };

export interface Plan {
  steps: Step[];
  /** What was not done and why, and what the operator must do (reboot ...): printed, never applied. */
  notes: string[];
  /** Problems that stop the setup before anything changes. */
  errors: string[];
  /** Values that must never be printed (the generated secrets in a new config). */
  secrets: string[];
  bootDir: string | undefined;
}

export const UNITS = {
  bluetooth: ['hciuart.service', 'bluetooth.service'],
  /** Serial consoles enabled by hand (the ones from cmdline.txt go with it). */
  serialGetty: ['serial-getty@ttyAMA0.service', 'serial-getty@ttyS0.service', 'serial-getty@serial0.service'],
  gpsd: ['gpsd.socket', 'gpsd.service'],
  agent: [UNIT_NAME],
} as const;
export const ALL_UNITS: readonly string[] = Object.values(UNITS).flat();

const isEnabled = (s: string | undefined) => s === 'enabled' || s === 'enabled-runtime';
const installed = (s: string | undefined) => s !== undefined && s !== 'not-found' && s !== '';

// ---------------------------------------------------------------------------------------------
// The boot partition: config.txt

/** One wanted line of config.txt: how to recognise the setting, and whether a line already says it. */
interface BootSetting { is: RegExp; good: (line: string) => boolean; line: string }

function overlayParams(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const p of line.split('=').slice(1).join('=').split(',').slice(1)) {
    const [k, v = ''] = p.split('=');
    m.set(k!.trim(), v.trim());
  }
  return m;
}

function bootSettings(o: PiOptions): BootSetting[] {
  const out: BootSetting[] = [
    { is: /^enable_uart\s*=/, good: (l) => /^enable_uart\s*=\s*1\s*$/.test(l), line: 'enable_uart=1' },
    {
      is: /^dtoverlay\s*=\s*pps-gpio\s*(,|$)/,
      // The overlay's default pin is 18: a line without gpiopin is the wrong pin unless 18 is wanted.
      good: (l) => (overlayParams(l).get('gpiopin') ?? '18') === String(o.ppsPin),
      line: `dtoverlay=pps-gpio,gpiopin=${o.ppsPin}`,
    },
    // The PL011 UART (ttyAMA0) for the GPS instead of Bluetooth: the mini UART's clock follows the
    // core's and loses bytes. pi3-disable-bt is the old name of the same overlay.
    { is: /^dtoverlay\s*=\s*(pi3-)?disable-bt\s*(,|$)/, good: () => true, line: 'dtoverlay=disable-bt' },
  ];
  if (o.disableWifi) out.push({ is: /^dtoverlay\s*=\s*(pi3-)?disable-wifi\s*(,|$)/, good: () => true, line: 'dtoverlay=disable-wifi' });
  return out;
}

/**
 * config.txt with the UART on, the PPS overlay on the wanted pin, Bluetooth off (and Wi-Fi when asked).
 * Only lines that apply to every board count: those before any [filter] section and those under [all].
 * A line that sets the same thing differently (enable_uart=0, pps-gpio on another pin) is changed in
 * place; a missing one is added at the end, under [all].
 */
export function editConfigTxt(text: string, o: PiOptions): string {
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  const sectionAt: string[] = [];
  let section = 'all';
  for (const l of lines) {
    const h = /^\s*\[([^\]]*)\]/.exec(l);
    if (h) section = h[1]!.trim().toLowerCase();
    sectionAt.push(section);
  }
  const add: string[] = [];
  for (const s of bootSettings(o)) {
    const found = lines.map((l, i) => ({ l: l.trim(), i })).filter(({ l, i }) => sectionAt[i] === 'all' && s.is.test(l));
    if (found.some(({ l }) => s.good(l))) continue;
    if (found.length) lines[found[0]!.i] = s.line;
    else add.push(s.line);
  }
  if (add.length) {
    while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
    if (section !== 'all') lines.push('', '[all]');
    lines.push('', `# stratum1-agent: the GPS on the UART, its PPS on GPIO ${o.ppsPin} (stratum1 setup pi)`, ...add);
  }
  return lines.join('\n') + (trailing || add.length ? '\n' : '');
}

/** The PPS pin config.txt gives the pps-gpio overlay (for every board), or undefined without one. */
export function ppsPinOf(configTxt: string): number | undefined {
  let section = 'all';
  for (const raw of configTxt.split('\n')) {
    const l = raw.trim();
    const h = /^\[([^\]]*)\]/.exec(l);
    if (h) section = h[1]!.trim().toLowerCase();
    else if (section === 'all' && /^dtoverlay\s*=\s*pps-gpio\s*(,|$)/.test(l)) return Number(overlayParams(l).get('gpiopin') ?? '18');
  }
  return undefined;
}

/** The kernel's serial console on the GPS's UART: it would talk to the receiver and take its data. */
const SERIAL_CONSOLE = /^console=(serial0|ttyAMA0|ttyS0)(,.*)?$/;

/** cmdline.txt (one line) without a console on serial0, ttyAMA0 or ttyS0; everything else kept. */
export function editCmdline(text: string): string {
  const eol = /\s*$/.exec(text)![0];
  const words = text.trim().split(/\s+/).filter((w) => w !== '');
  const kept = words.filter((w) => !SERIAL_CONSOLE.test(w));
  if (kept.length === words.length) return text;
  return kept.join(' ') + (eol.includes('\n') ? '\n' : eol);
}

/** The serial consoles cmdline.txt names (for setup check). */
export function serialConsoles(cmdline: string): string[] {
  return cmdline.trim().split(/\s+/).filter((w) => SERIAL_CONSOLE.test(w));
}

// ---------------------------------------------------------------------------------------------
// gpsd

export const GPSD_DEVICES = '/dev/serial0 /dev/pps0';

/** /etc/default/gpsd reading the Pi's UART and its PPS, polling without waiting for a client (-n). */
export function editGpsdDefaults(text: string): string {
  const want: Record<string, string> = { DEVICES: `"${GPSD_DEVICES}"`, GPSD_OPTIONS: '"-n"' };
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(DEVICES|GPSD_OPTIONS)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) continue;
    // Every assignment: the shell that reads the file keeps the last one.
    const key = m[1]!;
    seen.add(key);
    if (m[2] !== want[key]) lines[i] = `${key}=${want[key]}`;
  }
  for (const key of Object.keys(want)) if (!seen.has(key)) lines.push(`${key}=${want[key]}`);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// The agent's configuration

/**
 * /etc/stratum1/stratum1.yaml from the documented example: the state in /var/lib/stratum1, the receiver
 * and PPS as chosen (the serial port and kernel PPS, or gpsd), and secrets of its own (an SNMPv3 user
 * and a v1/v2c community; SNMP stays off until snmp.enabled is set). Every comment is kept.
 */
export function makeConfig(example: string, keepGpsd: boolean, s: PiState['secrets']): string {
  // The example's own heading (how it is generated) is not this file's: replaced by ours.
  const lines = example.split('\n');
  let start = 0;
  while (lines[start]?.startsWith('#')) start++;
  if (start > 0 && lines[start] === '') start++;
  const doc = parseDocument(lines.slice(start).join('\n'));
  if (doc.errors.length || !isMap(doc.contents)) throw new Error('the example configuration is not a YAML mapping');
  doc.setIn(['agent', 'state_dir'], STATE_DIR);
  doc.setIn(['receiver', 'source'], keepGpsd ? 'gpsd' : 'serial');
  doc.setIn(['pps', 'source'], keepGpsd ? 'gpsd' : 'kernel');
  if (!isSeq(doc.getIn(['snmp', 'users'], true))) throw new Error('the example configuration has no snmp.users');
  doc.setIn(['snmp', 'users'], doc.createNode([{ name: USER, auth_key: s.authKey, priv_key: s.privKey }]));
  doc.setIn(['snmp', 'communities'], doc.createNode([s.community]));
  const head = [
    '# Made by `stratum1 setup pi` from stratum1.example.yaml. Its secrets (snmp.users, snmp.communities)',
    '# were generated for this machine; SNMP stays off until snmp.enabled: true.',
  ].join('\n');
  return `${head}\n\n${doc.toString({ flowCollectionPadding: false, lineWidth: 0 })}`;
}

// ---------------------------------------------------------------------------------------------
// Users and groups (/etc/passwd, /etc/group)

interface Account { name: string; id: number; members: string[] }

function parseDb(text: string | undefined, idField: number): Account[] {
  return (text ?? '').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const f = l.split(':');
    return { name: f[0]!, id: Number(f[idField]), members: (f[3] ?? '').split(',').filter(Boolean) };
  });
}

export const users = (passwd: string | undefined) => parseDb(passwd, 2);
export const groups = (group: string | undefined) => parseDb(group, 2);

function ownerName(st: FileStat, state: PiState): string {
  const u = users(state.files['/etc/passwd']).find((x) => x.id === st.uid)?.name ?? String(st.uid);
  const g = groups(state.files['/etc/group']).find((x) => x.id === st.gid)?.name ?? String(st.gid);
  return `${u}:${g}`;
}

// ---------------------------------------------------------------------------------------------
// The plan

export function planPi(state: PiState, o: PiOptions): Plan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const underRoot = state.root !== '/';
  const f = state.files;
  const file = (path: string, after: string, why: string, mode?: number) => {
    if (f[path] !== after) steps.push({ kind: 'write', path, before: f[path], after, why, ...(mode === undefined ? {} : { mode }) });
  };
  const systemctl = (...a: string[]) => (underRoot ? ['systemctl', `--root=${state.root}`, ...a] : ['systemctl', ...a]);
  const shadow = (cmd: string, ...a: string[]) => (underRoot ? [cmd, '--prefix', state.root, ...a] : [cmd, ...a]);
  const chown = (path: string, owner: string, why: string) => {
    const st = state.stats[path];
    if (st && ownerName(st, state) === owner) return;
    if (underRoot) notes.push(`not done under --root: chown ${owner} ${path} (owners by name belong to the target system: run \`stratum1 setup pi\` there once, or chown it there)`);
    else steps.push({ kind: 'run', argv: ['chown', owner, path], why });
  };
  /** Turns a unit off: disabled, and stopped now on the running system. */
  const turnOff = (units: readonly string[], why: string) => {
    for (const u of units) {
      const en = state.unitEnabled[u];
      if (isEnabled(en)) steps.push({ kind: 'run', argv: systemctl('disable', ...(underRoot ? [] : ['--now']), u), why });
      else if (!underRoot && state.unitActive[u]) steps.push({ kind: 'run', argv: systemctl('stop', u), why });
    }
  };

  // The boot partition.
  const bootDir = BOOT_DIRS.find((d) => f[`${d}/config.txt`] !== undefined && !/moved to \/boot\/firmware/i.test(f[`${d}/config.txt`]!));
  if (!bootDir) errors.push(`no config.txt in ${BOOT_DIRS.join(' or ')}${underRoot ? ` under ${state.root}` : ''}: is this a Raspberry Pi OS system (with its boot partition mounted)?`);
  if (!Number.isInteger(o.ppsPin) || o.ppsPin < 0 || o.ppsPin > 27) errors.push(`--pps-pin ${o.ppsPin}: a BCM GPIO number from 0 to 27`);
  const groupDb = groups(f['/etc/group']);
  if (!groupDb.some((g) => g.name === 'dialout')) errors.push('no group "dialout" in /etc/group: the serial port\'s group is needed for the agent\'s user');
  if (o.keepGpsd && f[GPSD_DEFAULTS] === undefined) errors.push(`--keep-gpsd: gpsd is not installed (no ${GPSD_DEFAULTS}): apt install gpsd, then run this again`);
  if (errors.length) return { steps: [], notes, errors, secrets: [], bootDir };

  // 1. The system user, in the serial port's group (dialout). The PPS needs no group: the agent reads
  // the kernel's PPS from sysfs (world-readable), and with --keep-gpsd gpsd (root) opens /dev/pps0.
  const user = users(f['/etc/passwd']).find((u) => u.name === USER);
  if (!user) {
    const ownGroup = groupDb.some((g) => g.name === USER) ? ['--gid', USER] : ['--user-group'];
    steps.push({
      kind: 'run',
      argv: shadow('useradd', '--system', ...ownGroup, '--home-dir', STATE_DIR, '--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', 'dialout', USER),
      why: 'the agent\'s own system user, in dialout for the serial port',
    });
  } else if (!groupDb.find((g) => g.name === 'dialout')!.members.includes(USER)) {
    steps.push({ kind: 'run', argv: shadow('usermod', '--append', '--groups', 'dialout', USER), why: 'the agent\'s user in dialout, for the serial port' });
  }

  // 2. config.txt and cmdline.txt.
  const bootChanges = steps.length;
  const cfgTxt = `${bootDir}/config.txt`;
  file(cfgTxt, editConfigTxt(f[cfgTxt]!, o), `the UART, PPS on GPIO ${o.ppsPin}, Bluetooth off${o.disableWifi ? ', Wi-Fi off' : ''}`);
  const cmdline = `${bootDir}/cmdline.txt`;
  if (f[cmdline] !== undefined) {
    const after = editCmdline(f[cmdline]!);
    if (after !== f[cmdline]) {
      const backup = `${cmdline}${BACKUP_SUFFIX}`;
      // The first original is kept: a later run never overwrites the backup.
      if (f[backup] === undefined) file(backup, f[cmdline]!, 'the original cmdline.txt, kept');
      file(cmdline, after, 'no kernel console on the GPS\'s serial port');
    }
  } else {
    notes.push(`no ${cmdline}: nothing to remove from the kernel command line`);
  }
  const rebootNeeded = steps.length > bootChanges;

  // 3. Bluetooth off (its UART goes to the GPS) and no getty on the serial port.
  turnOff(UNITS.bluetooth, 'Bluetooth gives its UART to the GPS');
  turnOff(UNITS.serialGetty, 'no login prompt on the GPS\'s serial port');

  // 4. gpsd: off the serial port, or the agent's source.
  if (!o.keepGpsd) {
    turnOff(UNITS.gpsd, 'the agent reads the serial port itself: gpsd must not hold it');
  } else {
    file(GPSD_DEFAULTS, editGpsdDefaults(f[GPSD_DEFAULTS]!), 'gpsd reads the UART and the PPS, from boot (-n)');
    if (installed(state.unitEnabled['gpsd.service']) && !isEnabled(state.unitEnabled['gpsd.service']) && state.unitEnabled['gpsd.service'] !== 'static') {
      steps.push({ kind: 'run', argv: systemctl('enable', 'gpsd.service'), why: 'gpsd starts at boot' });
    }
  }

  // 5. The agent's configuration: made once, never overwritten.
  if (!state.dirs[CONFIG_DIR]) steps.push({ kind: 'mkdir', path: CONFIG_DIR, mode: 0o755, why: 'the agent\'s configuration' });
  const secrets: string[] = [];
  if (f[CONFIG_FILE] === undefined) {
    const made = makeConfig(state.exampleConfig, o.keepGpsd, state.secrets);
    secrets.push(state.secrets.authKey, state.secrets.privKey, state.secrets.community);
    file(CONFIG_FILE, made, 'from the example, with secrets of its own', 0o640);
  } else {
    notes.push(`${CONFIG_FILE} exists: kept as it is`);
    const st = state.stats[CONFIG_FILE];
    if (st && (st.mode & 0o777) !== 0o640) steps.push({ kind: 'chmod', path: CONFIG_FILE, mode: 0o640, why: 'it holds secrets: the agent\'s group reads it, nobody else' });
    let sources: unknown[] = [];
    try {
      const c = parse(f[CONFIG_FILE]!) as { receiver?: { source?: unknown }; pps?: { source?: unknown } } | null;
      sources = [c?.receiver?.source ?? 'serial', c?.pps?.source ?? 'kernel'];
    } catch { /* a config that does not parse: check-config says why */ }
    if (o.keepGpsd && sources.some((x) => x !== 'gpsd')) {
      notes.push(`--keep-gpsd: set receiver.source and pps.source to gpsd in ${CONFIG_FILE} (it was not changed)`);
    }
    if (!o.keepGpsd && sources.includes('gpsd')) {
      notes.push(`${CONFIG_FILE} takes gpsd as a source, and gpsd is off the port now: run setup pi with --keep-gpsd, or set receiver.source: serial and pps.source: kernel`);
    }
  }
  chown(CONFIG_FILE, `root:${USER}`, 'root writes it, the agent reads it');

  // 6. The state directory (the unit's StateDirectory= makes it too; made here so it exists before).
  if (!state.dirs[STATE_DIR]) steps.push({ kind: 'mkdir', path: STATE_DIR, mode: 0o750, why: 'the agent\'s history and state' });
  else if (state.stats[STATE_DIR] && (state.stats[STATE_DIR].mode & 0o777) !== 0o750) steps.push({ kind: 'chmod', path: STATE_DIR, mode: 0o750, why: 'the agent\'s alone' });
  chown(STATE_DIR, `${USER}:${USER}`, 'the agent\'s own');

  // 7. The unit, pointing at where the agent is.
  const unit = state.appDir === UNIT_APP_DIR ? state.unitTemplate : state.unitTemplate.split(UNIT_APP_DIR).join(state.appDir);
  if (/^\/(home|root)(\/|$)/.test(state.appDir)) {
    notes.push(`the agent is in ${state.appDir}, which the unit's ProtectHome=yes hides from it: copy it to ${UNIT_APP_DIR} and run setup from there`);
  }
  const unitDir = UNIT_FILE.slice(0, UNIT_FILE.lastIndexOf('/'));
  if (!state.dirs[unitDir]) steps.push({ kind: 'mkdir', path: unitDir, mode: 0o755, why: 'systemd\'s directory for local units' });
  const unitChanged = f[UNIT_FILE] !== unit;
  file(UNIT_FILE, unit, 'the service', 0o644);
  if (unitChanged && !underRoot) steps.push({ kind: 'run', argv: systemctl('daemon-reload'), why: 'systemd reads the new unit' });
  if (!isEnabled(state.unitEnabled[UNIT_NAME])) steps.push({ kind: 'run', argv: systemctl('enable', UNIT_NAME), why: 'the agent starts at boot' });

  if (rebootNeeded) notes.push(`reboot for ${bootDir}/config.txt and cmdline.txt to take effect; then \`stratum1 setup check\``);
  return { steps, notes, errors, secrets, bootDir };
}

// ---------------------------------------------------------------------------------------------
// What the dry run (and the real run) prints

const octal = (m: number) => `0${(m & 0o7777).toString(8)}`;

/** One step as a person reads it: a unified diff for a file, one line for anything else. */
export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'write': return `# ${s.why}\n${unifiedDiff(s.path, s.before, s.after)}${s.mode !== undefined && s.before === undefined ? `chmod ${octal(s.mode)} ${s.path}\n` : ''}`;
    case 'mkdir': return `# ${s.why}\nmkdir -m ${octal(s.mode)} ${s.path}\n`;
    case 'chmod': return `# ${s.why}\nchmod ${octal(s.mode)} ${s.path}\n`;
    case 'run': return `# ${s.why}\n${s.argv.join(' ')}\n`;
  }
}

/** Replaces each secret with a placeholder: the plan is printed, its secrets are not. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('<generated secret>');
  return out;
}

/** What follows the steps: that nothing changes, and the notes. */
export function formatTail(p: Plan): string {
  let out = p.steps.length === 0 ? 'nothing to change: already set up\n' : '';
  for (const n of p.notes) out += `note: ${n}\n`;
  return out;
}

/** The whole plan as the dry run prints it (the real run prints the same, step by step as it goes). */
export function formatPlan(p: Plan): string {
  return redact(p.steps.map(describeStep).join('') + formatTail(p), p.secrets);
}
