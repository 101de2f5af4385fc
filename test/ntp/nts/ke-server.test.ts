/** The NTS-KE server on loopback: TLS 1.3 with ALPN ntske/1, eight cookies holding the exported keys,
 * refusals (TLS 1.2, wrong ALPN, bad and oversize requests), bounds (deadline, connections at once),
 * the certificate reloaded when its files change, and the self-signed certificate in the state dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync, copyFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CookieKeys } from '../../../src/ntp/nts/cookies.ts';
import { NtsKeServer, exporterContext } from '../../../src/ntp/nts/ke-server.ts';
import { ensureSelfSigned, SELF_SIGNED_CERT, SELF_SIGNED_KEY } from '../../../src/ntp/nts/cert.ts';
import { encodeRecord, encodeKeRequest, KE_END, KE_NEXT_PROTOCOL } from '../../../src/ntp/nts/ke-codec.ts';
import type { NtsCounters } from '../../../src/status/status.ts';
import { ntsKe } from '../../helpers/nts.ts';
import { requirePeers } from '../../helpers/env.ts';

const newCounters = (): NtsCounters => ({ keConnections: 0, keSessions: 0, keFailures: {}, requests: 0, replied: 0, naks: 0, failures: {}, cookiesIssued: 0 });

async function withServer(t: import('node:test').TestContext, opts: { maxConnections?: number; timeoutMs?: number; ntpPort?: number } ,
  body: (x: { port: number; ca: Buffer; keys: CookieKeys; counters: NtsCounters; srv: NtsKeServer; dir: string; logs: string[] }) => Promise<void>): Promise<void> {
  if (!requirePeers(t, 'openssl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'nts-ke-'));
  const keys = new CookieKeys({ rotationS: 86400, graceS: 86400 });
  keys.rotate(1_800_000_000);
  const counters = newCounters();
  const logs: string[] = [];
  const cert = ensureSelfSigned(dir, Date.now());
  const srv = new NtsKeServer({
    addresses: ['127.0.0.1'], port: 0, cert, ntpPort: opts.ntpPort ?? 12300, ntpServer: '', cookiesPerSession: 8,
    maxConnections: opts.maxConnections ?? 16, timeoutMs: opts.timeoutMs ?? 5000, certCheckMs: 60_000,
  }, keys, counters, (l, m) => logs.push(`${l}: ${m}`));
  const [ep] = await srv.listen();
  try {
    await body({ port: ep!.port, ca: readFileSync(cert.cert), keys, counters, srv, dir, logs });
  } finally {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('NTS-KE: TLS 1.3 with ALPN ntske/1 gives NTPv4, AES-SIV-CMAC-256, our NTP port and 8 cookies holding the exported keys', async (t) => {
  await withServer(t, {}, async ({ port, ca, keys, counters }) => {
    const r = await ntsKe(port, ca);
    assert.ok(r.response.ok, 'a response without error');
    if (!r.response.ok) return;
    assert.deepEqual([r.response.protocols, r.response.aeads, r.response.port], [[0], [15], 12300]);
    assert.equal(r.response.cookies.length, 8);
    for (const c of r.response.cookies) {
      const o = keys.open(c);
      assert.ok(o.ok, 'each cookie opens under the server keys');
      if (o.ok) assert.deepEqual([o.c2s.toString('hex'), o.s2c.toString('hex')], [r.c2s.toString('hex'), r.s2c.toString('hex')], 'and holds the keys the client exported');
    }
    assert.notDeepEqual(r.c2s, r.s2c, 'C2S and S2C differ (context byte 0x00 vs 0x01)');
    assert.equal(exporterContext(1).toString('hex'), '0000000f01');
    assert.equal(counters.keSessions, 1);
    assert.equal(counters.cookiesIssued, 8);
  });
});

test('NTS-KE: a TLS 1.2 client, a client offering another ALPN, and one offering none are refused and counted', async (t) => {
  await withServer(t, {}, async ({ port, ca, counters }) => {
    await assert.rejects(ntsKe(port, ca, { tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } }), 'TLS 1.2 refused');
    await assert.rejects(ntsKe(port, ca, { tls: { ALPNProtocols: ['http/1.1'] } }), 'another ALPN refused');
    await assert.rejects(ntsKe(port, ca, { tls: { ALPNProtocols: [] } }), 'no ALPN refused');
    assert.equal(counters.keSessions, 0);
    const failures = Object.values(counters.keFailures).reduce((a, b) => a + b, 0);
    assert.ok(failures >= 3, `three failures counted: ${JSON.stringify(counters.keFailures)}`);
    assert.ok((counters.keFailures.tls ?? 0) >= 1, `TLS 1.2 counted as tls: ${JSON.stringify(counters.keFailures)}`);
    assert.ok((counters.keFailures.alpn ?? 0) >= 1, `ALPN counted: ${JSON.stringify(counters.keFailures)}`);
  });
});

test('NTS-KE: a request without Next Protocol gets Bad Request; one past the size limit too; no cookies', async (t) => {
  await withServer(t, {}, async ({ port, ca, counters }) => {
    const noNp = Buffer.concat([encodeRecord(4, true, Buffer.from([0, 15])), encodeRecord(KE_END, true)]);
    const r1 = await ntsKe(port, ca, { request: noNp });
    assert.ok(!r1.response.ok && /error 1/.test(r1.response.detail), 'bad request');
    const big = Buffer.concat([encodeRecord(KE_NEXT_PROTOCOL, true, Buffer.from([0, 0])), encodeRecord(0x22, false, Buffer.alloc(3000)), encodeRecord(KE_END, true)]);
    const r2 = await ntsKe(port, ca, { request: big });
    assert.ok(!r2.response.ok && /error 1/.test(r2.response.detail), 'oversize request refused');
    const r3 = await ntsKe(port, ca, { request: encodeKeRequest([0], [1]) });
    assert.ok(r3.response.ok && r3.response.aeads.length === 0 && r3.response.cookies.length === 0, 'no common AEAD: empty AEAD record, no cookies');
    assert.deepEqual([counters.keSessions, counters.keFailures['bad-request'], counters.keFailures['too-long'], counters.keFailures['no-aead']], [0, 1, 1, 1]);
  });
});

test('NTS-KE: a client that never speaks is cut off at the deadline; connections beyond the limit are dropped', async (t) => {
  await withServer(t, { maxConnections: 2, timeoutMs: 400 }, async ({ port, ca, counters }) => {
    const open = (): Promise<Socket> => new Promise((res) => { const s = tcpConnect(port, '127.0.0.1', () => res(s)); s.on('error', () => {}); });
    const closed = (s: Socket) => new Promise<void>((res) => s.once('close', () => res()));
    const a = await open();
    const b = await open();
    const c = await open();
    await closed(c); // the third: over maxConnections, closed at once
    assert.equal(counters.keFailures.busy, 1, `busy counted: ${JSON.stringify(counters.keFailures)}`);
    await Promise.all([closed(a), closed(b)]); // the two silent ones: closed by the deadline
    assert.ok((counters.keFailures.timeout ?? 0) >= 2, `timeouts counted: ${JSON.stringify(counters.keFailures)}`);
    const r = await ntsKe(port, ca);
    assert.ok(r.response.ok && r.response.cookies.length === 8, 'a well-behaved client is served afterwards');
  });
});

test('NTS-KE: replaced certificate files are picked up; a broken replacement keeps the old certificate', async (t) => {
  await withServer(t, {}, async ({ port, ca, srv, dir, logs }) => {
    const before = await ntsKe(port, ca);
    const other = mkdtempSync(join(tmpdir(), 'nts-ke2-'));
    try {
      const made = ensureSelfSigned(other, Date.now());
      copyFileSync(made.key, join(dir, SELF_SIGNED_KEY));
      copyFileSync(made.cert, join(dir, SELF_SIGNED_CERT));
      assert.equal(srv.reloadIfChanged(), true, 'the change is seen');
      const after = await ntsKe(port, readFileSync(made.cert));
      assert.notEqual(after.fingerprint, before.fingerprint, 'new connections get the new certificate');
      await assert.rejects(ntsKe(port, ca), 'the old certificate no longer verifies');
      copyFileSync(join(other, SELF_SIGNED_CERT), join(dir, SELF_SIGNED_KEY)); // a certificate where the key should be
      assert.equal(srv.reloadIfChanged(), false, 'a broken pair is not loaded');
      assert.ok(logs.some((l) => /not loaded/.test(l)), `a warning: ${logs.join(' / ')}`);
      const still = await ntsKe(port, readFileSync(made.cert));
      assert.equal(still.fingerprint, after.fingerprint, 'the last good certificate is still served');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

test('the self-signed certificate is made once, for localhost, in the state directory with mode 0600', (t) => {
  if (!requirePeers(t, 'openssl')) return;
  const dir = mkdtempSync(join(tmpdir(), 'nts-cert-'));
  try {
    const a = ensureSelfSigned(dir, Date.now());
    assert.ok(a.made, 'made the first time');
    assert.deepEqual([a.cert, a.key], [join(dir, 'nts-cert.pem'), join(dir, 'nts-key.pem')]);
    for (const f of [a.cert, a.key]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const b = ensureSelfSigned(dir, Date.now());
    assert.equal(b.made, false, 'reused the second time');
    const c = ensureSelfSigned(dir, Date.now() + 20 * 365 * 86_400_000);
    assert.equal(c.made, true, 'made again when it would have expired');
    assert.ok(/CN=localhost/.test(new X509Certificate(readFileSync(c.cert)).subject), 'subject CN=localhost');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

