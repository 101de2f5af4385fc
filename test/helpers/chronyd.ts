/**
 * A real chronyd for tests, in a private 0700 directory (it refuses a command socket where others may
 * enter): its own config, command socket, pid file and drift file. Always `-x`: it never steers this
 * machine's clock. Queried with chronyc over its command socket (or its cmdport when one is given);
 * ended by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export interface Chronyd {
  name: string;
  dir: string;
  /** chronyd's Unix command socket (bindcmdaddress). */
  cmdSock: string;
  proc: ChildProcess | undefined;
  /** Starts chronyd and waits until its command socket (and `waitFor`, if given) exists. */
  start(): Promise<void>;
  /** Ends chronyd by its PID and waits for it to exit. */
  stop(): Promise<void>;
  /** chronyc -n with these arguments, over the command socket; throws with chronyc's words on failure. */
  chronyc(...args: string[]): string;
  output(): string;
}

/** `lines`: the config's own lines; the command socket, pid and drift files are added. `cmdPort`: also
 * answer chronyc over UDP on 127.0.0.1 (else cmdport 0). `waitFor`: a path chronyd makes at start (a
 * SOCK refclock's socket). */
export function chronyd(name: string, dir: string, lines: string[], o: { cmdPort?: number; waitFor?: string } = {}): Chronyd {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  const cmdSock = join(dir, 'chronyd.sock');
  const conf = join(dir, 'chrony.conf');
  writeFileSync(conf, [
    ...lines, `bindcmdaddress ${cmdSock}`, ...(o.cmdPort ? [`cmdport ${o.cmdPort}`, 'bindcmdaddress 127.0.0.1'] : ['cmdport 0']),
    `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'chronyd.drift')}`, '',
  ].join('\n'));
  let out = '';
  const c: Chronyd = {
    name, dir, cmdSock, proc: undefined,
    async start() {
      rmSync(join(dir, 'chronyd.pid'), { force: true });
      // -x: never touch the clock. -u: stay the user we are (chronyd would drop to _chrony, who may
      // not enter this private directory).
      const p = spawn('chronyd', ['-x', '-d', '-u', userInfo().username, '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      p.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      c.proc = p;
      const end = Date.now() + 10_000;
      while (!existsSync(cmdSock) || (o.waitFor !== undefined && !existsSync(o.waitFor))) {
        if (p.exitCode !== null || Date.now() > end) throw new Error(`${name} did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const p = c.proc;
      c.proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM'); // by its PID: the ChildProcess we spawned
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    chronyc(...args) {
      const r = spawnSync('chronyc', ['-h', cmdSock, '-n', ...args], { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0) throw new Error(`chronyc ${args.join(' ')}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    output: () => out,
  };
  return c;
}
