/**
 * The bounded foreign-master table on a hostile LAN: an attacker who fills it with masters worse than
 * us must not hide a better master arriving afterwards (found by test/hostile: the table took no new
 * identity once full, so the better master was counted in foreignDropped and no ptpBetterMaster was
 * ever raised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAnnounce, clockIdentityFromMac, ptpTime, MSG } from '../../src/ptp/codec.ts';
import { GrandmasterCore, scaledLogVariance, type PtpEvent } from '../../src/ptp/grandmaster.ts';

const ours = clockIdentityFromMac('b8:27:eb:12:34:56');
const T = 1_800_000_037_000_000_000n;

function announce(n: number, priority1: number): Buffer {
  const id = Buffer.alloc(8);
  id.writeUInt32BE(0x0bad0000, 0);
  id.writeUInt32BE(n, 4);
  return encodeAnnounce({ messageType: MSG.ANNOUNCE, domainNumber: 0, flags: 0, sourcePortIdentity: { clockIdentity: id, portNumber: 1 }, sequenceId: n & 0xffff, logMessageInterval: 1 }, {
    originTimestamp: ptpTime(0n), currentUtcOffset: 37, grandmasterPriority1: priority1,
    grandmasterClockQuality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4e5d }, grandmasterPriority2: 128,
    grandmasterIdentity: id, stepsRemoved: 0, timeSource: 0x20,
  });
}

function core(events: PtpEvent[], max = 4) {
  return new GrandmasterCore({
    clockIdentity: ours, domain: 0, priority1: 128, priority2: 128, logAnnounceInterval: 1, logSyncInterval: 0, logMinDelayReqInterval: 0,
    announceReceiptTimeout: 3, managementPerSecond: 5, maxForeignMasters: max, delayRespPerSecond: 1000,
  }, {
    quality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: scaledLogVariance(400) }, currentUtcOffset: 37, utcOffsetValid: true,
    leap59: false, leap61: false, timeTraceable: true, frequencyTraceable: true, timeSource: 0x20,
  }, (e) => events.push(e));
}

test('a table full of worse masters still takes a better one: ptpBetterMaster is raised, the table stays at its bound', () => {
  const events: PtpEvent[] = [];
  const c = core(events);
  // The attacker's worse masters (priority1 255), refreshed, fill the table.
  for (let round = 0; round < 3; round++) for (let n = 0; n < 100; n++) c.receive(announce(n, 255), T + BigInt(round * 1e9 + n));
  assert.equal(c.foreign.size, 4);
  assert.equal(events.length, 0);
  // A better master (priority1 0) appears.
  c.receive(announce(1000, 0), T + 5_000_000_000n);
  assert.deepEqual(events.map((e) => e.kind), ['betterMaster']);
  assert.equal(c.foreign.size, 4, 'a worse master made room: the bound holds');
  assert.ok([...c.foreign.values()].some((f) => f.better));
  // Worse newcomers never push the better master out, and more better ones are one event.
  for (let n = 0; n < 100; n++) c.receive(announce(n, 255), T + 6_000_000_000n);
  for (let n = 2000; n < 2100; n++) c.receive(announce(n, 0), T + 6_000_000_000n);
  assert.equal(c.foreign.size, 4);
  assert.deepEqual(events.map((e) => e.kind), ['betterMaster']);
  assert.ok([...c.foreign.values()].some((f) => f.identity.endsWith('0003e8')), 'the first better master is still known');
  // All better masters fall silent: one betterMasterGone.
  c.expire(T + 60_000_000_000n);
  assert.equal(c.foreign.size, 0);
  assert.deepEqual(events.map((e) => e.kind), ['betterMaster', 'betterMasterGone']);
});
