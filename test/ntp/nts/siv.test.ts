/** AEAD_AES_SIV_CMAC_256 against the published vectors: AES-CMAC (RFC 4493 section 4) and AES-SIV
 * (RFC 5297 appendix A.1 deterministic, A.2 nonce-based with two associated data), then tampering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AesSivCmac256, Cmac } from '../../../src/ntp/nts/siv.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('AES-CMAC gives the RFC 4493 example MACs (empty, one block, 40 and 64 bytes)', () => {
  const c = new Cmac(hex('2b7e1516 28aed2a6 abf71588 09cf4f3c'));
  const m = hex(`6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
    30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710`);
  assert.equal(c.mac(Buffer.alloc(0)).toString('hex'), 'bb1d6929e95937287fa37d129b756746');
  assert.equal(c.mac(m.subarray(0, 16)).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
  assert.equal(c.mac(m.subarray(0, 40)).toString('hex'), 'dfa66747de9ae63030ca32611497c827');
  assert.equal(c.mac(m).toString('hex'), '51f0bebf7e3b9d92fc49741779363cfe');
});

test('RFC 5297 A.1 (deterministic): the published output, and it opens back to the plaintext', () => {
  const siv = new AesSivCmac256(hex('fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff'));
  const ad = hex('10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627');
  const p = hex('11223344 55667788 99aabbcc ddee');
  const out = siv.seal(p, [ad]);
  assert.equal(out.toString('hex'), '85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c');
  assert.deepEqual(siv.open(out, [ad]), p);
});

test('RFC 5297 A.2 (nonce-based, two associated data): the published output, and it opens', () => {
  const siv = new AesSivCmac256(hex('7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f'));
  const ad1 = hex('00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100');
  const ad2 = hex('10203040 50607080 90a0');
  const nonce = hex('09f91102 9d74e35b d84156c5 635688c0');
  const p = hex('74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553');
  const out = siv.seal(p, [ad1, ad2], nonce);
  assert.equal(out.toString('hex'), '7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d');
  assert.deepEqual(siv.open(out, [ad1, ad2], nonce), p);
  // The nonce is the last associated datum (RFC 5297 section 3): passing it that way is the same.
  assert.deepEqual(siv.seal(p, [ad1, ad2, nonce]), out);
});

test('empty associated data and plaintext: a 16-byte tag that opens to nothing', () => {
  const siv = new AesSivCmac256(hex('fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'));
  const out = siv.seal(Buffer.alloc(0));
  assert.equal(out.toString('hex'), 'f2007a5beb2b8900c588a7adf599f172');
  assert.equal(siv.open(out)?.length, 0);
});

test('any altered bit of ciphertext, tag, associated data or nonce, or a wrong key, is refused', () => {
  const key = hex('7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f');
  const siv = new AesSivCmac256(key);
  const ad = Buffer.from('header and extension fields');
  const nonce = Buffer.alloc(16, 7);
  const p = Buffer.from('cookies inside the authenticator, 40 bytes');
  const out = siv.seal(p, [ad], nonce);
  for (let i = 0; i < out.length; i++) {
    const bad = Buffer.from(out);
    bad[i]! ^= 1 << (i % 8);
    assert.equal(siv.open(bad, [ad], nonce), undefined, `byte ${i} flipped`);
  }
  const ad2 = Buffer.from(ad);
  ad2[0]! ^= 0x80;
  assert.equal(siv.open(out, [ad2], nonce), undefined, 'associated data altered');
  assert.equal(siv.open(out, [ad], Buffer.alloc(16, 8)), undefined, 'nonce altered');
  assert.equal(siv.open(out, [ad]), undefined, 'nonce dropped');
  assert.equal(siv.open(out.subarray(0, 10), [ad], nonce), undefined, 'shorter than a tag');
  const other = Buffer.from(key);
  other[31]! ^= 1;
  assert.equal(new AesSivCmac256(other).open(out, [ad], nonce), undefined, 'wrong CTR key half');
  assert.deepEqual(siv.open(out, [ad], nonce), p, 'the untouched message still opens');
});

test('a key that is not 32 bytes is refused with a clear error', () => {
  assert.throws(() => new AesSivCmac256(Buffer.alloc(16)), /key of 16 bytes, not 32/);
});
