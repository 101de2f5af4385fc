/** NTS-KE records (RFC 8915 section 4): framing, limits, the server's reading of requests, encoders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseKeMessage, readKeRequest, readKeResponse, encodeRecord, encodeKeRequest, encodeKeResponse, encodeKeError,
  REQUEST_LIMITS, RESPONSE_LIMITS, KE_END, KE_NEXT_PROTOCOL, KE_AEAD, KE_NEW_COOKIE, KE_PORT, KE_SERVER, KE_ERROR,
  KE_ERR_BAD_REQUEST, KE_ERR_UNRECOGNIZED_CRITICAL,
} from '../../../src/ntp/nts/ke-codec.ts';

const parse = (b: Buffer, limits = REQUEST_LIMITS) => {
  const p = parseKeMessage(b, limits);
  assert.ok(p.ok && p.complete, `a complete message: ${JSON.stringify(p)}`);
  return p.records;
};

test('a client request is Next Protocol [0] and AEAD [15], both critical, then a critical End', () => {
  const b = encodeKeRequest();
  assert.equal(b.toString('hex'), '80010002' + '0000' + '80040002' + '000f' + '80000000');
  const r = readKeRequest(parse(b));
  assert.deepEqual(r, { ok: true, protocols: [0], aeads: [15] });
});

test('a message arriving in pieces is incomplete until End of Message, at any split', () => {
  const b = encodeKeRequest();
  for (let i = 0; i < b.length; i++) {
    const p = parseKeMessage(b.subarray(0, i), REQUEST_LIMITS);
    assert.ok(p.ok && !p.complete, `prefix of ${i} bytes is incomplete`);
  }
  const p = parseKeMessage(Buffer.concat([b, Buffer.from('trailing')]), REQUEST_LIMITS);
  assert.ok(p.ok && p.complete && p.length === b.length, 'bytes after End are not part of the message');
});

test('limits: a message over maxBytes, a record claiming too much, or too many records is refused', () => {
  const big = encodeRecord(9, false, Buffer.alloc(2000));
  const p1 = parseKeMessage(big, REQUEST_LIMITS);
  assert.ok(!p1.ok && p1.reason === 'too-long', 'a 2000-byte record in a request');
  const header = Buffer.from([0x00, 0x09, 0xff, 0xff]); // a record announcing 65535 bytes
  const p2 = parseKeMessage(header, REQUEST_LIMITS);
  assert.ok(!p2.ok && p2.reason === 'too-long', 'an announced length past the limit is refused at once');
  const many = Buffer.concat(Array.from({ length: 40 }, () => encodeRecord(9, false)));
  const p3 = parseKeMessage(many, REQUEST_LIMITS);
  assert.ok(!p3.ok && p3.reason === 'too-many-records', '40 empty records');
  const p4 = parseKeMessage(Buffer.alloc(1024, 0x00).fill(0x01, 0, 1), REQUEST_LIMITS);
  assert.ok(!p4.ok, '1024 bytes of nothing useful');
});

test('End of Message must be critical and empty', () => {
  const p1 = parseKeMessage(encodeRecord(KE_END, false), REQUEST_LIMITS);
  assert.ok(!p1.ok && p1.reason === 'end-not-critical', 'End without critical bit');
  const p2 = parseKeMessage(encodeRecord(KE_END, true, Buffer.alloc(2)), REQUEST_LIMITS);
  assert.ok(!p2.ok && p2.reason === 'end-with-body', 'End with a body');
});

test('a request without Next Protocol, with two, or with a server-only record is a bad request', () => {
  const end = encodeRecord(KE_END, true);
  const np = encodeRecord(KE_NEXT_PROTOCOL, true, Buffer.from([0, 0]));
  for (const [name, msg] of [
    ['no next protocol', Buffer.concat([encodeRecord(KE_AEAD, true, Buffer.from([0, 15])), end])],
    ['two next protocol', Buffer.concat([np, np, end])],
    ['odd next protocol body', Buffer.concat([encodeRecord(KE_NEXT_PROTOCOL, true, Buffer.from([0])), end])],
    ['a new cookie from a client', Buffer.concat([np, encodeRecord(KE_NEW_COOKIE, false, Buffer.alloc(8)), end])],
    ['an error from a client', Buffer.concat([np, encodeRecord(KE_ERROR, true, Buffer.from([0, 1])), end])],
    ['a 3-byte port', Buffer.concat([np, encodeRecord(KE_PORT, true, Buffer.alloc(3)), end])],
  ] as const) {
    const r = readKeRequest(parse(msg));
    assert.ok(!r.ok && r.error === KE_ERR_BAD_REQUEST, `${name}: ${JSON.stringify(r)}`);
  }
});

test('an unknown critical record is error 0; an unknown non-critical one is ignored', () => {
  const np = encodeRecord(KE_NEXT_PROTOCOL, true, Buffer.from([0, 0]));
  const end = encodeRecord(KE_END, true);
  const r1 = readKeRequest(parse(Buffer.concat([np, encodeRecord(0x1234, true, Buffer.alloc(4)), end])));
  assert.ok(!r1.ok && r1.error === KE_ERR_UNRECOGNIZED_CRITICAL, 'critical unknown');
  const r2 = readKeRequest(parse(Buffer.concat([np, encodeRecord(0x1234, false, Buffer.alloc(4)), encodeRecord(KE_SERVER, false, Buffer.from('x')), end])));
  assert.deepEqual(r2, { ok: true, protocols: [0], aeads: [] });
});

test('a response carries protocol, AEAD, port, server and cookies; a client reads them back', () => {
  const cookies = [Buffer.alloc(100, 1), Buffer.alloc(100, 2)];
  const b = encodeKeResponse({ protocols: [0], aeads: [15], cookies, port: 12345, server: 'ntp.example' });
  const r = readKeResponse(parse(b, RESPONSE_LIMITS));
  assert.ok(r.ok, 'the response reads');
  if (!r.ok) return;
  assert.deepEqual([r.protocols, r.aeads, r.port, r.server], [[0], [15], 12345, 'ntp.example']);
  assert.deepEqual(r.cookies, cookies);
});

test('no common protocol: an empty Next Protocol and no cookies; no common AEAD: an empty AEAD and no cookies', () => {
  const r1 = readKeResponse(parse(encodeKeResponse({ protocols: [], aeads: [], cookies: [Buffer.alloc(4)] }), RESPONSE_LIMITS));
  assert.ok(r1.ok && r1.protocols.length === 0 && r1.cookies.length === 0, 'no protocol');
  const r2 = readKeResponse(parse(encodeKeResponse({ protocols: [0], aeads: [], cookies: [Buffer.alloc(4)] }), RESPONSE_LIMITS));
  assert.ok(r2.ok && r2.aeads.length === 0 && r2.cookies.length === 0, 'no AEAD');
});

test('an error response is a critical Error record and End', () => {
  const b = encodeKeError(KE_ERR_BAD_REQUEST);
  assert.equal(b.toString('hex'), '800200020001' + '80000000');
  const r = readKeResponse(parse(b));
  assert.ok(!r.ok && /error 1/.test(r.detail), 'the client sees error 1');
});
