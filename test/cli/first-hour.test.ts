/**
 * A newcomer's first hour, as a test (issue 19). Every command in the README's sh blocks is run as the
 * README shows it, read from the README itself so the test follows it as it changes: `npx stratum1`
 * and `node bin/stratum1.js` are this checkout's bin, `npm start` is package.json's start script on a
 * copy of config/stratum1.yaml with private ports (found by the commands through $STRATUM1_CONFIG, as
 * the README says they find it); what needs root, a package or hardware is run in its harmless form
 * (setup on a fake Pi root, --dry-run) or named as skipped, with the reason. A README command no rule
 * knows fails the test. Each command must answer: exit 0 and the output it exists for. Every command
 * of the README's command list has --help. Then every error path issue 19 saw (as processes) and its
 * neighbours (through main()): one sentence on stderr, no stack trace, exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { BIN } from '../helpers/agent.ts';
import { ROOT, hasCommand } from '../helpers/env.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { main } from '../../src/cli/main.ts';

interface Ran { status: number | null; stdout: string; stderr: string }

function exec(argv: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((res) => {
    const p = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      res({ status: null, stdout, stderr: `${stderr}${e.message}` });
    });
    p.on('close', (status) => {
      clearTimeout(timer);
      res({ status, stdout, stderr });
    });
  });
}

/** Runs jobs at most `n` at a time (two cores are shared with other work). */
async function pool<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

/** The README's sh blocks, command by command: continuation lines joined, comments dropped, `&&` split. */
export function readmeCommands(md: string): string[] {
  const out: string[] = [];
  for (const m of md.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const joined = m[1]!.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const code = line.replace(/(^|\s)#.*$/, '').trim();
      for (const c of code.split('&&')) if (c.trim()) out.push(c.trim().replace(/\s+/g, ' '));
    }
  }
  return out;
}

/** A fake Raspberry Pi OS root (Bookworm's layout), for `setup` in its harmless form. */
function fakePi(dir: string): string {
  const root = join(dir, 'pi-root');
  const put = (p: string, text: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  copyFileSync(join(ROOT, 'test/setup/fixtures/bookworm-config.txt'), join(root, 'boot/firmware/config.txt'));
  put('/boot/firmware/cmdline.txt', 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n');
  put('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n');
  put('/etc/group', 'root:x:0:\ndialout:x:20:pi\npi:x:1000:\n');
  put('/etc/default/gpsd', readFileSync(join(ROOT, 'test/setup/fixtures/gpsd.default'), 'utf8'));
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'var/lib'), { recursive: true });
  return root;
}

type Plan =
  | { run: string[]; expect: RegExp; exits?: number[]; why?: string }
  | { skip: string }
  | { agent: true };

const CHECK_NMEA = /^(\$[^*$\r\n]+\*[0-9A-F]{2}\r\n){10}$/;

/** What the test does with one README command. */
function planFor(cmd: string, ctx: { snmpPort: number; piRoot: string; out: string }): Plan {
  if (cmd === 'npm ci') return { skip: 'installs the dependencies: this checkout has them, and the test runs on them' };
  if (cmd === 'npm test') return { skip: 'runs every test, this one among them' };
  if (cmd === 'npm start') return { agent: true };
  if (/^sudo (apt|apt-get) install \.\/\S+\.deb$/.test(cmd)) return { skip: 'installs our Debian package as root (test/package/deb.test.ts installs it in a sandbox)' };
  if (/^sudo (apt|apt-get) install /.test(cmd)) return { skip: 'installs Debian packages as root (this machine has the build tools: the native addon is built)' };
  if (/^sudoedit /.test(cmd)) return { skip: 'opens an editor on the installed configuration' };
  if (/^sudo systemctl /.test(cmd)) return { skip: 'starts the installed service under systemd' };
  if (/^sudo cp /.test(cmd)) return { skip: 'copies the checkout to /opt' };
  if (/^cd /.test(cmd)) return { skip: 'changes into that copy' };
  if (/^sudo npm /.test(cmd)) return { skip: 'builds and prunes a copy in /opt as root' };
  if (cmd === 'sudo reboot') return { skip: 'reboots the machine' };
  if (/^snmpwalk /.test(cmd)) {
    const argv = cmd.split(' ').map((a) => a.replace(/^127\.0\.0\.1:16161$/, `127.0.0.1:${ctx.snmpPort}`));
    return { run: argv, expect: /^STRATUM1-AGENT-MIB::s1\w+/m };
  }
  const cli = /^(?:npx stratum1|(?:sudo )?node bin\/stratum1\.js) (.*)$/.exec(cmd);
  if (!cli) throw new Error(`a README command no rule of first-hour.test.ts knows: "${cmd}" (add how to run it, or why not)`);
  const args = cli[1]!.split(' ');
  // Files the README writes (report.html) go to the test's directory, not the checkout.
  const o = args.indexOf('--out');
  if (o >= 0 && !isAbsolute(args[o + 1]!)) args[o + 1] = join(ctx.out, args[o + 1]!);
  const run = [process.execPath, BIN, ...args];
  switch (args[0]) {
    case 'status': return { run, expect: args.includes('--json') ? /^\{\n {2}"time": "[^"]+Z",[\s\S]*"agent": \{/ : /^Agent +: stratum1-dev /m };
    case 'history': return { run, expect: new RegExp(`^${args[1]} \\(\\w+\\), \\S+Z to \\S+Z, one point per \\d+ s, from [^:]+: \\d+ points\\n`) };
    case 'report': return { run, expect: /report\.html: \d+ bytes, \S+Z to \S+Z\n$/ };
    case 'nmea': return { run, expect: CHECK_NMEA };
    case 'replay':
      if (!existsSync(resolve(ROOT, args[1]!))) {
        if (process.env.CI) throw new Error(`the README's capture ${args[1]} is missing`);
        return { skip: `the capture ${args[1]} is not here (the shared corpus)` };
      }
      return { run, expect: /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}Fix3D /m };
    case 'setup':
      if (args[1] === 'pi' && !args.includes('--dry-run')) {
        return { skip: 'changes the system (useradd, systemctl, /boot): its --dry-run form runs here; test/setup/pi.test.ts runs it on a fake root with fake commands' };
      }
      if (!args.includes('--root')) run.push('--root', ctx.piRoot);
      if (args[1] === 'check') {
        // On a fake root there is no UART, PPS or receiver: the check says so, line by line, and exits 1.
        return { run, expect: /^config: [^\n]+\n((ok|FAIL|skip) +\w+ +[^\n]+\n)+$/, exits: [0, 1], why: 'a check that finds a problem exits 1' };
      }
      return { run, expect: /^dry run under \S+: the changes setup pi would make \(nothing is changed\)\n/ };
    default:
      return { run, expect: /\S/ };
  }
}

test('a newcomer\'s first hour: every command of the README answers, every error is a sentence and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's1-first-hour-'));
  const [control, snmp] = [await freeTcpPort(), await freeUdpPort()];
  // config/stratum1.yaml, as a newcomer finds it, on private ports and a private state directory.
  const cfgObj = parse(readFileSync(join(ROOT, 'config/stratum1.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  cfgObj.agent!.state_dir = join(dir, 'var');
  cfgObj.ntp!.port = 0;
  (cfgObj.control!.http as Record<string, unknown>).port = control;
  cfgObj.snmp!.port = snmp;
  cfgObj.prometheus = { ...cfgObj.prometheus, port: 0 };
  const cfg = join(dir, 'stratum1.yaml');
  writeFileSync(cfg, stringify(cfgObj));
  const env = { STRATUM1_CONFIG: cfg };
  const ctx = { snmpPort: snmp, piRoot: fakePi(dir), out: dir };

  const commands = readmeCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(commands.length >= 15, `the README's sh blocks hold its commands: ${commands.length}`);
  assert.ok(commands.includes('npm start') && commands.some((c) => c.startsWith('npx stratum1 status')), 'npm start and npx stratum1 status among them');
  const plans = commands.map((c) => ({ cmd: c, plan: planFor(c, ctx) }));

  // npm start: package.json's start script, on the private configuration.
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  assert.match(start, /^node bin\/stratum1\.js run( --simulate)? --config config\/stratum1\.yaml$/, 'npm start runs the agent on config/stratum1.yaml');
  const argv = start.replace('config/stratum1.yaml', cfg).split(' ').map((a) => (a === 'node' ? process.execPath : a === 'bin/stratum1.js' ? BIN : a));
  const agent = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let agentOut = '';
  agent.stdout.setEncoding('utf8').on('data', (d: string) => (agentOut += d));
  agent.stderr.setEncoding('utf8').on('data', (d: string) => (agentOut += d.slice(0, 2000)));
  const report: string[] = [];
  try {
    const deadline = Date.now() + 20_000;
    while (!/^listening: /m.test(agentOut) && agent.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(agentOut, /^stratum1 \S+ running \(pid \d+\): receiver simulator/m, `npm start answers: ${agentOut.slice(0, 500)}`);
    assert.match(agentOut, new RegExp(`control-http tcp 127\\.0\\.0\\.1:${control}`), 'on the private control port');
    // The history and the stream need a few seconds of a fix.
    for (let i = 0; i < 60; i++) {
      const st = await fetch(`http://127.0.0.1:${control}/status`).then((r) => r.json() as Promise<{ gnss: { fix: boolean }; store: { samplesWritten?: number } }>).catch(() => undefined);
      if (st?.gnss.fix) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 3000));

    const runs = plans.filter((p): p is { cmd: string; plan: Extract<Plan, { run: string[] }> } => 'run' in p.plan);
    const snmpwalk = runs.find((r) => r.plan.run[0] === 'snmpwalk');
    if (snmpwalk && !hasCommand('snmpwalk')) {
      if (process.env.CI) throw new Error('REAL PEER MISSING: snmpwalk (snmp)');
      runs.splice(runs.indexOf(snmpwalk), 1);
      report.push(`SKIPPED (snmpwalk missing here): ${snmpwalk.cmd}`);
    }
    const results = await pool(runs.map((r) => () => exec(r.plan.run, env)), 2);
    runs.forEach((r, i) => {
      const res = results[i]!;
      const ok = r.plan.exits ?? [0];
      assert.ok(ok.includes(res.status ?? -1), `README: ${r.cmd}: exit ${res.status}${r.plan.why ? ` (${r.plan.why})` : ''}\n${res.stderr.slice(0, 800)}`);
      assert.match(res.stdout, r.plan.expect, `README: ${r.cmd}: answers with what it is for: ${JSON.stringify(res.stdout.slice(0, 400))}`);
      assert.doesNotMatch(res.stderr, /^ {4}at /m, `README: ${r.cmd}: no stack trace`);
      report.push(`ran: ${r.cmd} (exit ${res.status})`);
    });
    for (const p of plans) if ('skip' in p.plan) report.push(`skipped: ${p.cmd}: ${p.plan.skip}`);

    // Every command of the README's list has its --help.
    const list = /## Commands\n\n```\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    assert.ok(list, 'the README has a command list');
    const names = [...new Set([...list[1]!.matchAll(/^stratum1 ([a-z-]+)/gm)].map((m) => m[1]!))];
    assert.ok(names.length >= 14 && names.includes('nmea'), `the listed commands: ${names.join(' ')}`);
    // In process (the usage text is the same either way; sixteen more processes would cost a minute here).
    for (const n of names) {
      let out = '';
      let err = '';
      const code = await main([n, '--help'], { out: (x) => (out += x), err: (x) => (err += x) });
      assert.equal(code, 0, `${n} --help: exit 0 (${err})`);
      assert.match(out, new RegExp(`^ {2}stratum1 ${n}\\b`), `${n} --help shows its usage`);
    }

    // The error paths issue 19 saw, and their neighbours: one sentence, no stack, exit 2. Issue 19's own
    // (marked P) run as processes, as the newcomer met them; the neighbours in process through main(),
    // which is all a process adds to them (a stack trace there is main() throwing here).
    const noAgent = await freeTcpPort();
    const emptyState = join(dir, 'empty');
    mkdirSync(emptyState);
    const noDb = join(dir, 'no-db.yaml');
    writeFileSync(noDb, `agent:\n  state_dir: ${JSON.stringify(emptyState)}\ncontrol:\n  http:\n    port: ${noAgent}\n`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'receiver:\n  serial:\n    baud: fast\n');
    const base = `http://127.0.0.1:${control}`;
    const P = true;
    const errors: [string[], RegExp, Record<string, string>?, boolean?][] = [
      [['status', '--url', `${base}/metrics`], /^no agent answered at http:\/\/127\.0\.0\.1:\d+\/metrics\/status: HTTP 404 \(no Status there: --url takes the control endpoint's address, for example http:\/\/127\.0\.0\.1:7323\)$/, undefined, P],
      [['status', '--url', 'localhost:7323'], /^--url localhost:7323: (not a URL|the control endpoint speaks http)/],
      [['status', '--bogus'], /^Unknown option '--bogus'/, undefined, P],
      [['status', '--config', noDb], /^no agent answered at http:\/\/127\.0\.0\.1:\d+\/status: connection refused \(is the agent running\? stratum1 run starts it\)$/],
      [['status', '--config', join(dir, 'missing.yaml')], /^cannot read the configuration file \S+missing\.yaml: there is no such file$/, undefined, P],
      [['status'], /^cannot read the configuration file \S+nowhere\.yaml: there is no such file$/, { STRATUM1_CONFIG: join(dir, 'nowhere.yaml') }],
      [['status', '--watch', '--interval', '0'], /^--interval takes seconds from 0\.2 to 3600/],
      [['events', '--type', 'bogus'], /^no event type bogus; the types are fixAcquired, /, undefined, P],
      [['events', '--since', 'yesterday'], /^--since takes a duration such as 90s/],
      [['report', '--out', '/no/such/dir/r.html'], /^cannot write the report to \/no\/such\/dir\/r\.html: ENOENT$/, undefined, P],
      [['report'], /^report needs --out FILE\.html$/],
      [['traps', 'test'], /^no trap receivers configured \(snmp\.trap_sinks\): nothing sent$/, undefined, P],
      [['traps', 'frob'], /^traps takes "test" or "resend"$/],
      [['history', 'time_error_ns', '--config', noDb], /^cannot open the history database \S+history\.db: .*\(is store\.enabled on, and agent\.state_dir where the agent keeps it\?\)$/, undefined, P],
      [['history', 'no_such_metric'], /^unknown metric "no_such_metric": one of offset_ns, /],
      [['alarms', '--config', noDb], /^no agent answered at .*connection refused/],
      [['clients', '--top', '0'], /^--top takes a whole number of clients from 1/],
      [['nmea', '--config', noDb], /^no agent answered at http:\/\/127\.0\.0\.1:\d+: connection refused/],
      [['nmea', '--seconds', '-1'], /^--seconds needs a value \(a value starting with a dash is written --seconds=-VALUE\)$/],
      [['replay', join(dir, 'no-such.log')], /^cannot read \S+no-such\.log: ENOENT$/],
      [['replay'], /^replay needs a capture file$/],
      [['check-config', join(dir, 'missing.yaml')], /^cannot read the configuration file \S+missing\.yaml: there is no such file$/],
      [['mib', '--config', dir], /^cannot read the configuration file \S+: it is a directory$/],
      [['setup', 'pi', '--root', join(dir, 'no-such-root')], /^--root \S+no-such-root: not a directory$/],
      [['setup', 'frob'], /^setup takes "pi" or "check", not "frob"$/],
      [['frobnicate'], /^unknown command "frobnicate"$/],
    ];
    const inProcess = async (a: string[], e: Record<string, string>): Promise<Ran> => {
      const saved = process.env.STRATUM1_CONFIG;
      process.env.STRATUM1_CONFIG = e.STRATUM1_CONFIG;
      let stdout = '';
      let stderr = '';
      try {
        const status = await main(a, { out: (x) => (stdout += x), err: (x) => (stderr += x) });
        return { status, stdout, stderr };
      } catch (err) {
        return { status: null, stdout, stderr: `${stderr}main() threw:\n${(err as Error).stack}` };
      } finally {
        if (saved === undefined) delete process.env.STRATUM1_CONFIG;
        else process.env.STRATUM1_CONFIG = saved;
      }
    };
    const errs = await pool(errors.map(([a, , e, asProcess]) => () => (asProcess ? exec([process.execPath, BIN, ...a], { ...env, ...e })
      : inProcess(a, { ...env, ...e }))), 2);
    assert.ok(errors.filter((x) => x[3]).length >= 7, 'issue 19\'s error paths run as processes');
    errors.forEach(([a, why], i) => {
      const r = errs[i]!;
      const what = `stratum1 ${a.join(' ')}`;
      assert.equal(r.status, 2, `${what}: exit 2 (${r.stderr.slice(0, 300)})`);
      assert.doesNotMatch(r.stderr, /^ {4}at /m, `${what}: no stack trace`);
      const [first, ...more] = r.stderr.split('\n');
      assert.match(first!, /^stratum1: /, `${what}: a sentence from stratum1: ${JSON.stringify(r.stderr.slice(0, 300))}`);
      assert.match(first!.slice('stratum1: '.length), why, `${what}: says why`);
      // One line, except for an unknown command, followed by the usage.
      if (a[0] !== 'frobnicate') assert.deepEqual(more, [''], `${what}: one line: ${JSON.stringify(r.stderr.slice(0, 300))}`);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    });
    // A bad configuration lists its problems: the first line says which file, then one line each.
    const badRun = await exec([process.execPath, BIN, 'check-config', bad], env);
    assert.equal(badRun.status, 2, 'a bad configuration: exit 2');
    assert.match(badRun.stderr, /^stratum1: bad configuration: \S+bad\.yaml: 1 problem:\n {2}receiver\.serial\.baud: expected an integer from 1200 to 921600, found the string "fast"\n$/, badRun.stderr);
  } finally {
    if (agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    console.error(`first hour:\n  ${report.join('\n  ')}`);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(agent.exitCode, 0, `the agent stopped cleanly: ${agentOut.slice(-500)}`);
});
