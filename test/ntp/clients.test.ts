/** The table of who uses the NTP server (src/ntp/clients.ts): windows, ordering, the bound. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientTable } from '../../src/ntp/clients.ts';

test('requests per client over the last minute (estimate), hour and day, from bucket counts', () => {
  const t = new ClientTable(10);
  const t0 = 1_000_020; // 20 s into a minute (a monotonic reading; only differences matter)
  for (let i = 0; i < 30; i++) t.record('192.0.2.1', t0 + i); // 30 requests over 30 s
  t.record('192.0.2.2', t0);
  let rows = t.top(10, t0 + 30);
  assert.deepEqual(rows.map((r) => [r.address, r.lastMinute, r.lastHour, r.lastDay, r.total]), [['192.0.2.1', 30, 30, 30, 30], ['192.0.2.2', 1, 1, 1, 1]]);
  // Two minutes later nothing is in the last minute; the hour and day still hold them.
  rows = t.top(10, t0 + 150);
  assert.deepEqual(rows.map((r) => [r.lastMinute, r.lastHour, r.lastDay]), [[0, 30, 30], [0, 1, 1]]);
  assert.equal(rows[0]!.lastSeenAgeS, 150 - 29, 'last seen 121 s ago');
  assert.equal(rows[0]!.firstSeenAgeS, 150, 'first seen 150 s ago');
  // Two hours later: only the day.
  rows = t.top(10, t0 + 2 * 3600);
  assert.deepEqual(rows.map((r) => [r.lastMinute, r.lastHour, r.lastDay]), [[0, 0, 30], [0, 0, 1]]);
  // A day and an hour later: nothing left, but the totals since start stay.
  rows = t.top(10, t0 + 25 * 3600);
  assert.deepEqual(rows.map((r) => [r.lastDay, r.total]), [[0, 30], [0, 1]]);
  assert.deepEqual(t.totals(t0 + 30), { total: 31, lastMinute: 31, lastHour: 31, lastDay: 31 }, 'all clients together');
});

test('the last minute slides: the previous minute counts for the part of it still within 60 s', () => {
  const t = new ClientTable(10);
  const m = 600_000; // a minute boundary
  for (let i = 0; i < 60; i++) t.record('192.0.2.9', m + i); // one a second for a whole minute
  assert.equal(t.top(1, m + 60)[0]!.lastMinute, 60, 'at the next boundary: the whole previous minute');
  assert.equal(t.top(1, m + 90)[0]!.lastMinute, 30, 'half-way: half of it');
  t.record('192.0.2.9', m + 90);
  assert.equal(t.top(1, m + 90)[0]!.lastMinute, 31, 'plus the current minute\'s');
});

test('bounded: a flood of new addresses evicts the least recently seen, counts the evictions, and the ordering is by the window asked for', () => {
  const t = new ClientTable(100);
  t.record('192.0.2.1', 10);
  for (let i = 0; i < 100_000; i++) t.record(`198.18.${(i >> 8) & 255}.${i & 255}`, 11 + i / 1000);
  assert.equal(t.size, 100, 'never more than the bound');
  assert.equal(t.evicted, 100_000 + 1 - 100, 'each eviction counted');
  assert.ok(!t.top(1000, 200).some((r) => r.address === '192.0.2.1'), 'the least recently seen went first');
  // Ordering: by the day, or by the last minute.
  const u = new ClientTable(10);
  for (let i = 0; i < 50; i++) u.record('192.0.2.50', 0 + i); // 50, long ago
  for (let i = 0; i < 5; i++) u.record('192.0.2.5', 7200 + i); // 5, just now
  assert.deepEqual(u.top(2, 7210, 'day').map((r) => r.address), ['192.0.2.50', '192.0.2.5']);
  assert.deepEqual(u.top(2, 7210, 'minute').map((r) => r.address), ['192.0.2.5', '192.0.2.50']);
  assert.deepEqual(u.top(1, 7210, 'hour').map((r) => r.address), ['192.0.2.5']);
  assert.equal(new ClientTable(0).top(10, 0).length, 0, 'a table of size 0 keeps nobody');
});
