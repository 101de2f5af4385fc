/** Runs the agent as a real process (optionally inside a network namespace) and reads its Status. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './env.ts';
import type { Status } from '../../src/status/status.ts';

export const BIN = resolve(ROOT, 'bin/stratum1.js');

export interface RunningAgent {
  proc: ChildProcess;
  out: () => string;
  /** Everything the process wrote to stdout and stderr, whole (out() cuts long stderr chunks short). */
  all: () => string;
  ntp: { address: string; port: number }[];
  statusUrl: string;
  status(): Promise<Status>;
  waitFor(pred: (s: Status) => boolean, ms: number, what: string): Promise<Status>;
  stop(): Promise<void>;
}

export async function startAgent(configFile: string, netns?: string): Promise<RunningAgent> {
  const cmd = netns ? ['ip', ['netns', 'exec', netns, process.execPath, BIN, 'run', '--simulate', '--config', configFile]] as const
    : [process.execPath, [BIN, 'run', '--simulate', '--config', configFile]] as const;
  const proc = spawn(cmd[0], [...cmd[1]], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let all = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; all += d; });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d.length > 4000 ? d.slice(0, 4000) : d; all += d; });
  const deadline = Date.now() + 20_000;
  while (!/^listening: .*\n/m.test(out)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL'); // not left running behind a failed test
      throw new Error(`the agent did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const line = /^listening: (.*)$/m.exec(out)![1]!;
  const ntp = [...line.matchAll(/ntp udp (\S+):(\d+)/g)].map((m) => ({ address: m[1]!, port: Number(m[2]) }));
  const ctl = /control-http tcp (\S+):(\d+)/.exec(line)!;
  const statusUrl = `http://${ctl[1]}:${ctl[2]}/status`;
  const status = async (): Promise<Status> => {
    if (netns) {
      const r = spawnSync('ip', ['netns', 'exec', netns, process.execPath, BIN, 'status', '--json', '--url', statusUrl], { encoding: 'utf8', timeout: 20_000 });
      if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Status;
    }
    const res = await fetch(statusUrl);
    return (await res.json()) as Status;
  };
  return {
    proc, out: () => out, all: () => all, ntp, statusUrl, status,
    async waitFor(pred, ms, what) {
      const end = Date.now() + ms;
      for (;;) {
        const s = await status();
        if (pred(s)) return s;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; state ${s.discipline.state}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
    }),
  };
}

/** A config for a test agent: the simulator with a perfect oscillator (so the served time is the
 * host's own), quick to lock, NTP on the given addresses and port. */
export function agentConfig(stateDir: string, ntpAddresses: string[], ntpPort: number, controlPort = 0, noFixForS = 0): string {
  return [
    'receiver:', '  source: simulator',
    'simulator:', '  initial_offset_ms: 0', '  frequency_ppm: 0', '  wander_ppb_per_sqrt_s: 0', '  pps_jitter_ns: 0',
    ...(noFixForS > 0 ? ['  faults:', `    - { at_s: 0, kind: antenna_unplugged, duration_s: ${noFixForS} }`] : []),
    'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', '  leap_seconds_file: ""',
    'control:', '  http:', '    address: 127.0.0.1', `    port: ${controlPort}`, 'prometheus:', '  port: 0',
    'ntp:', `  addresses: [${ntpAddresses.map((a) => JSON.stringify(a)).join(', ')}]`, `  port: ${ntpPort}`,
    // Several test clients share 127.0.0.1 and poll every second: a generous limit.
    '  rate_limit:', '    interval_s: 0.05', '    burst: 64',
    'agent:', `  state_dir: ${JSON.stringify(stateDir)}`, '',
  ].join('\n');
}
