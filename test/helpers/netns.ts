/**
 * Two test hosts joined by a veth pair, each in a network namespace of its own, with addresses from
 * TEST-NET-1 (192.0.2.0/24, documentation only) that exist nowhere but there.
 */
import { spawnSync } from 'node:child_process';

export interface NetPair {
  a: { ns: string; dev: string; address: string };
  b: { ns: string; dev: string; address: string };
  exec(ns: string, cmd: string[], opts?: { input?: string; timeoutMs?: number }): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function netPair(tag: string): NetPair {
  const id = `${tag}${process.pid % 100000}`;
  const a = { ns: `${id}a`, dev: `${id}A`.slice(0, 15), address: '192.0.2.1' };
  const b = { ns: `${id}b`, dev: `${id}B`.slice(0, 15), address: '192.0.2.2' };
  const remove = () => {
    for (const n of [a.ns, b.ns]) spawnSync('ip', ['netns', 'del', n]);
  };
  remove();
  try {
    ip('netns', 'add', a.ns);
    ip('netns', 'add', b.ns);
    ip('link', 'add', a.dev, 'type', 'veth', 'peer', 'name', b.dev);
    ip('link', 'set', a.dev, 'netns', a.ns);
    ip('link', 'set', b.dev, 'netns', b.ns);
    for (const h of [a, b]) {
      ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', h.dev);
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      ip('-n', h.ns, 'link', 'set', h.dev, 'up');
      ip('-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', h.dev);
    }
  } catch (e) {
    remove();
    throw e;
  }
  return {
    a, b, remove,
    exec(ns, cmd, opts = {}) {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 20_000 });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
  };
}
