/** A private influxd (Debian's influxdb 1.x) on loopback, for tests and benchmarks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.ts';

export interface Influxd {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  query(db: string, q: string): Promise<{ columns: string[]; values: unknown[][] }[]>;
}

export async function influxd(): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'influxd-'));
  const port = await freeTcpPort();
  const rpc = await freeTcpPort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, [
    'reporting-disabled = true', `bind-address = "127.0.0.1:${rpc}"`,
    '[meta]', `  dir = "${dir}/meta"`,
    '[data]', `  dir = "${dir}/data"`, `  wal-dir = "${dir}/wal"`, '  query-log-enabled = false',
    '[http]', `  bind-address = "127.0.0.1:${port}"`, '  log-enabled = false',
    '[monitor]', '  store-enabled = false',
    '[continuous_queries]', '  enabled = false', '',
  ].join('\n'));
  let proc: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  const self: Influxd = {
    url, port,
    async start() {
      proc = spawn('influxd', ['-config', conf], { stdio: 'ignore' });
      const end = Date.now() + 15_000;
      for (;;) {
        try {
          const r = await fetch(`${url}/ping`);
          if (r.status === 204) return;
        } catch { /* not yet */ }
        if (Date.now() > end || proc.exitCode !== null) throw new Error('influxd did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => new Promise<void>((res) => {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
    }),
    async query(db, q) {
      const r = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ns&q=${encodeURIComponent(q)}`);
      const j = (await r.json()) as { results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
      if (j.results[0]?.error) throw new Error(`${q}: ${j.results[0].error}`);
      return j.results[0]?.series ?? [];
    },
  };
  await self.start();
  return self;
}
