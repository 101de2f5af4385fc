/**
 * linuxptp for tests: pmc's answers parsed, and ptp4l started in a network namespace of a NetPair
 * without CAP_SYS_TIME (setpriv drops it from the bounding and inheritable sets, and start() checks
 * ptp4l's effective and permitted sets), so it cannot steer the clock the namespaces share. Ended by
 * its PID.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { NetPair } from './netns.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CAP_SYS_TIME = 25;

/** pmc's answer: field -> value (the last response's, for a data set answered once). */
export function pmc(socket: string, what: string): Record<string, string> {
  const r = spawnSync('pmc', ['-u', '-b', '0', '-s', socket, `GET ${what}`], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, `pmc GET ${what}: ${r.stderr}`);
  const f: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\t\t(\S+)\s+(.+?)\s*$/.exec(line);
    if (m) f[m[1]!] = m[2]!;
  }
  assert.ok(Object.keys(f).length > 0, `pmc GET ${what} answered:\n${r.stdout}`);
  return f;
}

export interface Ptp4l { start(): Promise<void>; stop(): Promise<void>; log(): string; pid(): number | undefined }

export function ptp4l(net: NetPair, side: 'a' | 'b', conf: string): Ptp4l {
  let proc: ChildProcess | undefined;
  let out = '';
  return {
    async start() {
      const h = net[side];
      // ip netns exec and setpriv exec in place: the child's PID is ptp4l's.
      const p = spawn('ip', ['netns', 'exec', h.ns, 'setpriv', '--bounding-set', '-sys_time', '--inh-caps', '-sys_time',
        'ptp4l', '-i', h.dev, '-4', '-S', '-m', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      p.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      proc = p;
      const end = Date.now() + 5000;
      for (;;) {
        assert.ok(p.exitCode === null, `ptp4l exited:\n${out}`);
        assert.ok(Date.now() < end, `ptp4l did not start:\n${out}`);
        let status = '';
        try {
          status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
        } catch {
          // not there yet
        }
        if (/^Name:\s+ptp4l$/m.test(status)) {
          const eff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status)![1]!}`);
          const prm = BigInt(`0x${/^CapPrm:\s+([0-9a-f]+)$/m.exec(status)![1]!}`);
          assert.equal((eff | prm) & (1n << BigInt(CAP_SYS_TIME)), 0n, 'ptp4l runs without CAP_SYS_TIME: it cannot touch the clock');
          return;
        }
        await sleep(20);
      }
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM'); // by its PID: the process we spawned
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    log: () => out,
    pid: () => proc?.pid,
  };
}

