/**
 * The model of the kernel clock (src/discipline/kernel.ts) that the system actuator steers in virtual
 * time: the adjtimex semantics it claims, each checked against what adjtimex(2) and the kernel's
 * ntp.c say (units, clamping, read-only bits, maxerror growth, leap seconds, EPERM).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimClock, NS_PER_S, fromDate, toIso } from '../../src/time/index.ts';
import {
  KernelClockModel, ADJ_FREQUENCY, ADJ_SETOFFSET, ADJ_NANO, ADJ_STATUS, ADJ_MAXERROR, ADJ_ESTERROR, ADJ_OFFSET,
  STA_UNSYNC, STA_INS, STA_DEL, STA_NANO, STA_PLL, TIME_OK, TIME_INS, TIME_OOP, TIME_WAIT, TIME_ERROR, EPERM, EINVAL,
  MAXFREQ_SCALED, MAXERROR_LIMIT_US, scaledPpmFromPpb, statusBits,
} from '../../src/discipline/kernel.ts';

const T0 = fromDate(new Date('2026-05-10T12:00:00Z'));

test('ADJ_FREQUENCY in scaled ppm: +10 ppm makes the kernel clock gain 10 us per second of the oscillator; clamped at 500 ppm', () => {
  const osc = new SimClock(T0);
  const k = new KernelClockModel(osc);
  assert.equal(k.now(), T0, 'the kernel clock starts on the oscillator');
  const out = k.adjtime({ modes: ADJ_FREQUENCY, freq: 10 * 65536 });
  assert.equal(out.freq, 655360, 'the frequency reads back in scaled ppm');
  osc.advance(1000);
  assert.equal(k.now() - osc.now(), 10_000n, 'gained 10 us in 1 s');
  osc.advance(9000);
  assert.equal(k.now() - osc.now(), 100_000n, 'gained 100 us in 10 s');
  assert.equal(k.adjtime({ modes: ADJ_FREQUENCY, freq: 900 * 65536 }).freq, MAXFREQ_SCALED, 'clamped to +500 ppm');
  assert.equal(k.adjtime({ modes: ADJ_FREQUENCY, freq: -900 * 65536 }).freq, -MAXFREQ_SCALED, 'clamped to -500 ppm');
  assert.equal(scaledPpmFromPpb(1000), 65536, '1 ppm is 65536 scaled');
});

test('ADJ_SETOFFSET with ADJ_NANO steps the clock by that many ns; without ADJ_NANO it is refused (EINVAL); ADJ_OFFSET (the PLL) is not modelled and refused', () => {
  const osc = new SimClock(T0);
  const k = new KernelClockModel(osc);
  k.adjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, setOffsetNs: -200_000_123 });
  assert.equal(k.now() - osc.now(), -200_000_123n, 'stepped back by 200.000123 ms');
  assert.equal(k.adjtime({ modes: ADJ_SETOFFSET, setOffsetNs: 5 }).state, -EINVAL, 'microsecond steps are not what we model');
  assert.equal(k.adjtime({ modes: ADJ_OFFSET, offset: 1000 }).state, -EINVAL, 'the PLL is refused, not pretended');
  assert.equal(k.now() - osc.now(), -200_000_123n, 'refused calls changed nothing');
});

test('ADJ_STATUS keeps the read-only bits; STA_UNSYNC means TIME_ERROR; maxerror grows 500 us a second and sets STA_UNSYNC past 16 s', () => {
  const osc = new SimClock(T0);
  const k = new KernelClockModel(osc);
  assert.equal(k.adjtime({ modes: 0 }).state, TIME_ERROR, 'starts unsynchronised');
  let out = k.adjtime({ modes: ADJ_STATUS | ADJ_NANO | ADJ_MAXERROR | ADJ_ESTERROR, status: 0, maxerror: 1000, esterror: 20 });
  assert.equal(out.state, TIME_OK, 'synchronised once STA_UNSYNC is cleared');
  assert.deepEqual(statusBits(out.status), ['NANO'], `STA_NANO is read-only and set with ADJ_NANO: ${statusBits(out.status)}`);
  out = k.adjtime({ modes: ADJ_STATUS, status: STA_PLL });
  assert.ok((out.status & STA_NANO) !== 0, 'ADJ_STATUS cannot clear a read-only bit');
  k.adjtime({ modes: ADJ_STATUS, status: 0 });
  osc.advance(10_000);
  out = k.adjtime({ modes: 0 });
  assert.equal(out.maxerror, 1000 + 10 * 500, 'maxerror grew by 500 us for each of 10 s');
  assert.equal(out.esterror, 20, 'esterror is kept as set');
  osc.advance(40_000_000); // 11 hours: 16 s of maxerror passed
  out = k.adjtime({ modes: 0 });
  assert.equal(out.maxerror, MAXERROR_LIMIT_US, 'maxerror stops at 16 s');
  assert.ok((out.status & STA_UNSYNC) !== 0, 'and the kernel marked the clock unsynchronised itself');
  assert.equal(out.state, TIME_ERROR, 'TIME_ERROR again');
});

test('without CAP_SYS_TIME every write is EPERM and changes nothing; reading still works', () => {
  const osc = new SimClock(T0);
  const k = new KernelClockModel(osc);
  k.permitted = false;
  assert.equal(k.adjtime({ modes: ADJ_FREQUENCY, freq: 65536 }).state, -EPERM, 'a frequency write is refused');
  assert.equal(k.adjtime({ modes: ADJ_SETOFFSET | ADJ_NANO, setOffsetNs: 1e9 }).state, -EPERM, 'a step is refused');
  assert.equal(k.adjtime({ modes: 0 }).state, TIME_ERROR, 'a read is allowed');
  osc.advance(1000);
  assert.equal(k.now(), osc.now(), 'the clock was not moved');
});

test('STA_INS: armed on the day, the clock reads 23:59:59 twice at midnight, TIME_INS, TIME_OOP, TIME_WAIT, TAI+1; STA_DEL skips 23:59:59', () => {
  const midnight = fromDate(new Date('2026-12-31T00:00:00Z')) + 86_400n * NS_PER_S;
  const osc = new SimClock(midnight - 10n * NS_PER_S);
  const k = new KernelClockModel(osc);
  // maxerror well under 16 s, or the kernel would mark the clock unsynchronised at the next second.
  k.adjtime({ modes: ADJ_STATUS | ADJ_MAXERROR, status: STA_INS, maxerror: 1000 });
  assert.equal(k.adjtime({ modes: 0 }).state, TIME_INS, 'armed');
  osc.advance(9_500);
  assert.equal(toIso(k.now(), 1), '2026-12-31T23:59:59.5Z');
  osc.advance(1_000);
  assert.equal(toIso(k.now(), 1), '2026-12-31T23:59:59.5Z', 'the inserted second reads as 23:59:59 again');
  const st = k.adjtime({ modes: 0 });
  assert.deepEqual([st.state, st.tai], [TIME_OOP, 1], 'the leap second is in progress, TAI-UTC one more');
  osc.advance(1_000);
  assert.equal(toIso(k.now(), 1), '2027-01-01T00:00:00.5Z', 'then midnight, one second late');
  assert.equal(k.adjtime({ modes: 0 }).state, TIME_WAIT, 'waiting for STA_INS to be cleared');
  assert.equal(k.adjtime({ modes: ADJ_STATUS, status: 0 }).state, TIME_OK, 'cleared: TIME_OK');

  const osc2 = new SimClock(midnight - 10n * NS_PER_S);
  const k2 = new KernelClockModel(osc2);
  k2.adjtime({ modes: ADJ_STATUS | ADJ_MAXERROR, status: STA_DEL, maxerror: 1000 });
  osc2.advance(8_500);
  assert.equal(toIso(k2.now(), 1), '2026-12-31T23:59:58.5Z');
  osc2.advance(1_000);
  assert.equal(toIso(k2.now(), 1), '2027-01-01T00:00:00.5Z', '23:59:59 was skipped');
  assert.equal(k2.adjtime({ modes: 0 }).tai, -1, 'TAI-UTC one less');
});

test('a leap armed for tonight moves readings asked for past midnight ahead of time, as the simulator asks for edges', () => {
  const midnight = fromDate(new Date('2026-12-31T00:00:00Z')) + 86_400n * NS_PER_S;
  const osc = new SimClock(midnight - 5n * NS_PER_S);
  const k = new KernelClockModel(osc);
  k.adjtime({ modes: ADJ_STATUS, status: STA_INS });
  k.now();
  assert.equal(k.realAt(midnight + 500_000_000n), midnight - 500_000_000n, 'the reading half a second past midnight is 23:59:59.5');
  assert.equal(k.realAt(midnight - 500_000_000n), midnight - 500_000_000n, 'and half a second before it too');
});
