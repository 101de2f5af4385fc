import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSentence, nmeaChecksum, type Sentence } from '../../src/gnss/nmea.ts';
import { LineFramer } from '../../src/gnss/framer.ts';

/** Builds a sentence with a correct checksum (hand-made cases, not from a capture). */
function nmea(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

function ok(line: string): Sentence {
  const r = parseSentence(line);
  if (!r.ok) assert.fail(`${line}: ${r.error.kind} ${r.error.detail}`);
  return r.sentence;
}

test('RMC with NMEA 4.1 nav status, all talkers', () => {
  for (const talker of ['GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'GQ', 'QZ']) {
    const s = ok(nmea(`${talker}RMC,123519.25,A,4807.038,N,01131.000,W,022.4,084.4,230394,003.1,W,D,V`));
    assert.equal(s.type, 'RMC');
    if (s.type !== 'RMC') return;
    assert.equal(s.talker, talker);
    assert.deepEqual(s.time, { hour: 12, minute: 35, second: 19, nanos: 250_000_000 });
    assert.deepEqual(s.date, { year: 1994, month: 3, day: 23 });
    assert.ok(Math.abs(s.position!.lat - (48 + 7.038 / 60)) < 1e-12);
    assert.ok(Math.abs(s.position!.lon + (11 + 31 / 60)) < 1e-12);
    assert.equal(s.magVarDeg, -3.1);
    assert.equal(s.faaMode, 'D');
    assert.equal(s.navStatus, 'V');
    assert.equal(s.valid, true);
  }
});

test('GGA, GSA with system ID, GSV with signal ID, ZDA, GLL, VTG, GST, GNS, TXT', () => {
  const gga = ok(nmea('GPGGA,202640.000,4404.1306,N,12118.8515,W,2,10,0.98,1127.7,M,-19.6,M,,'));
  assert.ok(gga.type === 'GGA' && gga.quality === 2 && gga.satellitesUsed === 10 && gga.altMsl === 1127.7 && gga.geoidSep === -19.6);
  const gsa = ok(nmea('GNGSA,A,3,07,30,19,11,15,,,,,,,,2.88,1.20,2.62,3'));
  assert.ok(gsa.type === 'GSA');
  if (gsa.type === 'GSA') {
    assert.deepEqual(gsa.prns, [7, 30, 19, 11, 15]);
    assert.deepEqual([gsa.pdop, gsa.hdop, gsa.vdop, gsa.systemId], [2.88, 1.2, 2.62, 3]);
  }
  const gsv = ok(nmea('GAGSV,3,3,10,30,14,215,16,36,08,098,,7'));
  assert.ok(gsv.type === 'GSV');
  if (gsv.type === 'GSV') {
    assert.equal(gsv.signalId, 7);
    assert.deepEqual(gsv.sats, [{ prn: 30, elevation: 14, azimuth: 215, snr: 16 }, { prn: 36, elevation: 8, azimuth: 98, snr: undefined }]);
  }
  const zda = ok(nmea('GPZDA,235959.50,31,12,2016,00,00'));
  assert.ok(zda.type === 'ZDA' && zda.date?.year === 2016 && zda.time?.second === 59);
  const gll = ok(nmea('GPGLL,4916.45,N,12311.12,W,225444,A,A'));
  assert.ok(gll.type === 'GLL' && gll.valid && gll.time?.hour === 22);
  const vtg = ok(nmea('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A'));
  assert.ok(vtg.type === 'VTG' && vtg.trackTrue === 54.7 && vtg.speedKnots === 5.5);
  const gst = ok(nmea('GPGST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031'));
  assert.ok(gst.type === 'GST' && gst.altErr === 0.031);
  const gns = ok(nmea('GNGNS,224749.00,3333.4268304,N,11153.3538273,W,DDN,19,0.6,406.110,-26.294,6.0,0138,S'));
  assert.ok(gns.type === 'GNS' && gns.modes === 'DDN' && gns.satellitesUsed === 19 && gns.navStatus === 'S');
  const txt = ok(nmea('GPTXT,01,01,02,ANTSTATUS=OK'));
  assert.ok(txt.type === 'TXT' && txt.text === 'ANTSTATUS=OK');
});

test('a leap second 23:59:60 is a valid time of day', () => {
  const s = ok(nmea('GPRMC,235960.00,A,4807.038,N,01131.000,E,0.0,0.0,311216,,,A'));
  assert.ok(s.type === 'RMC' && s.time?.second === 60);
});

test('MediaTek replies and the antenna status sentence', () => {
  const ack = ok(nmea('PMTK001,314,3'));
  assert.deepEqual(ack, { type: 'PMTK001', command: 314, flag: 3 });
  const ver = ok(nmea('PMTK705,AXN_2.31_3339_13101700,5632,PA6H,1.0'));
  assert.ok(ver.type === 'PMTK705' && ver.release === 'AXN_2.31_3339_13101700');
  for (const [v, want] of [[1, 1], [2, 2], [3, 3]] as const) {
    assert.deepEqual(ok(nmea(`PGTOP,11,${v}`)), { type: 'PGTOP', status: want });
  }
  const bad = parseSentence(nmea('PGTOP,11,7'));
  assert.ok(!bad.ok && bad.error.kind === 'bad-field');
});

test('bad input is classified, never thrown', () => {
  const cases: [string, string][] = [
    ['', 'empty'],
    ['GPGGA,1', 'no-start'],
    ['$GPGGA,202640.000,4404.1306,N', 'no-checksum'],
    ['$GPZDA,153347.000,23,04,2010,,*58', 'bad-checksum'],
    ['$GPZDA,153347.000,23,04,2010,,*5', 'no-checksum'],
    ['$GPZDA,153347.000,23,04,2010,,*ZZ', 'no-checksum'],
    [`$GP\x00ZDA*00`, 'binary'],
    ['$' + 'A'.repeat(300) + '*00', 'too-long'],
    [nmea('gpzda,1'), 'bad-address'],
    [nmea('GPRMC,256099.00,A,,,,,,,,,'), 'bad-field'],
    [nmea('GPRMC,123519,A,4807.038,N,01131.000,E,x,,230394,,'), 'bad-field'],
    [nmea('GPZDA,123519,32,13,2020,,'), 'bad-field'],
    [nmea('GPGSV,2,3,08'), 'bad-field'],
  ];
  for (const [line, kind] of cases) {
    const r = parseSentence(line);
    assert.ok(!r.ok, `${JSON.stringify(line)} should be rejected`);
    if (!r.ok) assert.equal(r.error.kind, kind, JSON.stringify(line));
  }
});

test('random bytes never throw and are mostly junk', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const framer = new LineFramer();
  let parsed = 0;
  for (let i = 0; i < 2000; i++) {
    const len = Math.floor(rnd() * 120);
    const bytes = Buffer.alloc(len);
    for (let j = 0; j < len; j++) bytes[j] = rnd() < 0.05 ? 0x24 : rnd() < 0.05 ? 0x0a : Math.floor(rnd() * 256);
    for (const line of framer.push(bytes)) {
      parseSentence(line);
      parsed++;
    }
  }
  assert.ok(parsed > 100);
});

test('the framer handles chunking, CR CR LF and unbounded junk', () => {
  const f = new LineFramer();
  const s = nmea('GPZDA,153347.000,23,04,2010,,');
  const stream = `${s}\r\r\n${s}\n${s}\r\n`;
  const out: string[] = [];
  for (const ch of stream) out.push(...f.push(ch));
  assert.deepEqual(out, [s, s, s]);
  const g = new LineFramer();
  assert.deepEqual(g.push('x'.repeat(10_000)), []);
  assert.ok(g.stats.overlong >= 1 && g.stats.junkBytes >= 9000);
  assert.deepEqual(g.push(`\n${s}\n`), [s]);
});
