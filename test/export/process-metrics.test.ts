import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessMetrics, readMaxFds, readOpenFds, readVirtualMemoryBytes } from '../../src/export/process-metrics.ts';

const value = (fams: ReturnType<ProcessMetrics['families']>, name: string) => fams.find((f) => f.name === name)?.samples[0]?.value;

test('the event-loop lag shows a blocked loop, is absent before the first tick and after stop, and is reset at each read', async () => {
  const p = new ProcessMetrics(() => 1_764_072_000);
  assert.equal(value(p.families(), 'nodejs_eventloop_lag_max_seconds'), null, 'not started: no figure');
  p.start();
  await new Promise((r) => setTimeout(r, 100));
  p.families(); // reset
  await new Promise((r) => setTimeout(r, 50));
  const until = performance.now() + 80;
  while (performance.now() < until) { /* the loop is blocked for 80 ms */ }
  await new Promise((r) => setTimeout(r, 30));
  const f = p.families();
  const max = value(f, 'nodejs_eventloop_lag_max_seconds')!;
  assert.ok(max >= 0.05, `an 80 ms block shows as a lag of at least 50 ms: ${max}`);
  assert.ok(max < 5, `and in seconds: ${max}`);
  assert.equal(value(f, 'process_start_time_seconds'), 1_764_072_000);
  p.stop();
  assert.equal(value(p.families(), 'nodejs_eventloop_lag_p99_seconds'), null, 'stopped: no figure');
});

test('/proc readers: this process\'s figures, and null where the file is not there', () => {
  assert.ok((readOpenFds() ?? 0) > 2, 'stdin, stdout, stderr at least');
  assert.ok((readMaxFds() ?? 0) >= 64, 'a soft limit');
  assert.ok((readVirtualMemoryBytes() ?? 0) > 1e6, 'virtual memory');
  assert.equal(readOpenFds('/no/such/dir'), null);
  assert.equal(readMaxFds('/no/such/file'), null);
  assert.equal(readVirtualMemoryBytes('/no/such/file'), null);
});
