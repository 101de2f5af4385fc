/**
 * The process and Node runtime metrics of /metrics, under the names the Prometheus client libraries
 * use (process_* as every official client exports them on Linux; nodejs_* as prom-client's default
 * metrics), so the stock dashboards and alerts for them work here. Not part of Status: they describe
 * the agent's process, not the time server, and are read at each scrape (a few reads of /proc/self).
 *
 * The event-loop delay matters for a time server: an NTP reply stamped by the event loop carries the
 * loop's lag, and a PPS edge read late is a late sample. It comes from perf_hooks'
 * monitorEventLoopDelay, reset at each scrape as prom-client does: the figures cover the time since
 * the previous scrape. Its histogram records the time between the ticks of its 10 ms timer, not their
 * lateness (measured on an idle agent: min 9.1 ms, p50 10.1 ms), so the resolution is taken off each
 * figure (and a tick a little early counts as no lag): what is left is how late the loop ran.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Family } from './prometheus.ts';

/** /proc/self/stat's vsize (field 23, bytes); null where there is no /proc. */
export function readVirtualMemoryBytes(stat = '/proc/self/stat'): number | null {
  try {
    const text = readFileSync(stat, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[20]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** The soft limit on open files from /proc/self/limits; null where unknown or unlimited. */
export function readMaxFds(limits = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const v = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** File descriptors open now (the directory read's own descriptor not counted); null without /proc. */
export function readOpenFds(dir = '/proc/self/fd'): number | null {
  try {
    return Math.max(0, readdirSync(dir).length - 1);
  } catch {
    return null;
  }
}

/** monitorEventLoopDelay's timer period (ms), taken off the figures it records. */
export const LAG_RESOLUTION_MS = 10;

export class ProcessMetrics {
  private lag: IntervalHistogram | undefined;

  /** @param startTimeUnixS when the process started (Status's agent.startedAtUnixS: the agent starts with its process). */
  constructor(private readonly startTimeUnixS: () => number) {}

  start(): void {
    if (this.lag) return;
    this.lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.lag.enable();
  }

  stop(): void {
    this.lag?.disable();
    this.lag = undefined;
  }

  families(): Family[] {
    const one = (name: string, help: string, value: number | null | undefined, kind: 'gauge' | 'counter' = 'gauge'): Family => ({ name, help, kind, samples: [{ value }] });
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const h = this.lag;
    // No sample since the last reset: leave the lag out rather than report the histogram's empty bounds.
    const lagOf = (v: (x: IntervalHistogram) => number, offset = LAG_RESOLUTION_MS * 1e6) => (h && h.count > 0 ? Math.max(0, v(h) - offset) / 1e9 : null);
    const [major, minor, patch] = process.versions.node.split('.');
    const out: Family[] = [
      one('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', cpu.user / 1e6, 'counter'),
      one('process_cpu_system_seconds_total', 'System CPU time spent in seconds.', cpu.system / 1e6, 'counter'),
      one('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6, 'counter'),
      one('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', this.startTimeUnixS()),
      one('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss),
      one('process_virtual_memory_bytes', 'Virtual memory size in bytes.', readVirtualMemoryBytes()),
      one('process_open_fds', 'Number of open file descriptors.', readOpenFds()),
      one('process_max_fds', 'Maximum number of open file descriptors.', readMaxFds()),
      one('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', mem.heapTotal),
      one('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', mem.heapUsed),
      one('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', mem.external),
      one('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay since the last scrape.', lagOf((x) => x.min)),
      one('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay since the last scrape.', lagOf((x) => x.max)),
      one('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays since the last scrape.', lagOf((x) => x.mean)),
      one('nodejs_eventloop_lag_stddev_seconds', 'The standard deviation of the recorded event loop delays since the last scrape.', lagOf((x) => x.stddev, 0)),
      one('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays since the last scrape.', lagOf((x) => x.percentile(50))),
      one('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays since the last scrape.', lagOf((x) => x.percentile(90))),
      one('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays since the last scrape.', lagOf((x) => x.percentile(99))),
      { name: 'nodejs_version_info', help: 'Node.js version info.', kind: 'gauge', samples: [{ labels: { version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, value: 1 }] },
    ];
    h?.reset();
    return out;
  }
}
