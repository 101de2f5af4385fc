/**
 * AEAD_AES_SIV_CMAC_256 (RFC 5297), the one AEAD NTS requires (RFC 8915, algorithm 15), built on
 * node:crypto's AES: AES-CMAC (RFC 4493) from AES-128 in ECB (the subkeys) and CBC with a zero IV (the
 * chaining), S2V over the associated data, the nonce and the plaintext, and AES-128-CTR started at the
 * synthetic IV with bits 31 and 63 cleared. Pure: no I/O, no state beyond the key.
 *
 * A 32-byte key is K1 (CMAC, the first half) then K2 (CTR, the second half). Sealed output is the
 * 16-byte synthetic IV followed by the ciphertext, as long as the plaintext.
 */
import { createCipheriv, timingSafeEqual, type Cipher } from 'node:crypto';

const BLOCK = 16;
const ZERO = Buffer.alloc(BLOCK);

/** Doubling in GF(2^128) (RFC 5297 section 2.3): shift left one bit, XOR 0x87 on carry. */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  let carry = 0;
  for (let i = BLOCK - 1; i >= 0; i--) {
    const v = b[i]!;
    out[i] = ((v << 1) | carry) & 0xff;
    carry = v >> 7;
  }
  if (carry) out[BLOCK - 1]! ^= 0x87;
  return out;
}

function xorInto(dst: Buffer, src: Uint8Array, at = 0): void {
  for (let i = 0; i < src.length; i++) dst[at + i]! ^= src[i]!;
}

/**
 * AES-CMAC (RFC 4493) with a 16-byte key. One AES-128-CBC cipher serves every MAC of the key (making
 * a cipher costs far more than using one): CBC chains from the last ciphertext block it produced, so
 * each message's first block is XORed with that block first, which makes its IV zero again.
 */
export class Cmac {
  private readonly k1: Buffer;
  private readonly k2: Buffer;
  private readonly cbc: Cipher;
  private chain: Buffer = Buffer.alloc(BLOCK);
  constructor(key: Buffer) {
    if (key.length !== 16) throw new Error(`AES-CMAC: key of ${key.length} bytes, not 16`);
    this.cbc = createCipheriv('aes-128-cbc', key, ZERO).setAutoPadding(false);
    const l = this.cbcMac(Buffer.alloc(BLOCK)); // AES_K(0)
    this.k1 = dbl(l);
    this.k2 = dbl(this.k1);
  }

  /** The last block of CBC with a zero IV over `buf` (a whole number of blocks, overwritten). */
  private cbcMac(buf: Buffer): Buffer {
    xorInto(buf, this.chain);
    const out = this.cbc.update(buf);
    this.chain = out.subarray(out.length - BLOCK);
    return Buffer.from(this.chain);
  }

  mac(m: Uint8Array): Buffer {
    const n = Math.max(1, Math.ceil(m.length / BLOCK));
    const whole = m.length > 0 && m.length % BLOCK === 0;
    const buf = Buffer.alloc(n * BLOCK);
    buf.set(m);
    if (whole) {
      xorInto(buf, this.k1, (n - 1) * BLOCK);
    } else {
      buf[m.length] = 0x80;
      xorInto(buf, this.k2, (n - 1) * BLOCK);
    }
    return this.cbcMac(buf);
  }
}

export class AesSivCmac256 {
  private readonly cmac: Cmac;
  /** AES-128-ECB under K2, for the CTR key stream (kept: one cipher per key). */
  private readonly ecb: Cipher;
  /** CMAC(K1, zero block), where every S2V starts. */
  private readonly d0: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error(`AES-SIV-CMAC-256: key of ${key.length} bytes, not 32`);
    this.cmac = new Cmac(Buffer.from(key.subarray(0, 16)));
    this.ecb = createCipheriv('aes-128-ecb', Buffer.from(key.subarray(16, 32)), null).setAutoPadding(false);
    this.d0 = this.cmac.mac(ZERO);
  }

  /** S2V (RFC 5297 section 2.4) over the strings; the last is the plaintext. */
  private s2v(strings: readonly Uint8Array[]): Buffer {
    if (strings.length === 0) return this.cmac.mac(Buffer.from([...ZERO.subarray(0, 15), 1]));
    let d: Buffer = Buffer.from(this.d0);
    for (let i = 0; i < strings.length - 1; i++) {
      d = dbl(d);
      xorInto(d, this.cmac.mac(strings[i]!));
    }
    const last = strings[strings.length - 1]!;
    let t: Buffer;
    if (last.length >= BLOCK) {
      t = Buffer.from(last);
      xorInto(t, d, last.length - BLOCK);
    } else {
      t = dbl(d);
      const p = Buffer.alloc(BLOCK);
      p.set(last);
      p[last.length] = 0x80;
      xorInto(t, p);
    }
    return this.cmac.mac(t);
  }

  /** CTR from Q = V with bits 31 and 63 cleared: the counter blocks Q, Q+1, ... encrypted in one ECB
   * call. With bit 31 clear the low 32-bit word cannot carry for fewer than 2^31 blocks, so adding to
   * it alone is the 128-bit increment. */
  private ctr(v: Buffer, data: Uint8Array): Buffer {
    if (data.length === 0) return Buffer.alloc(0);
    const n = Math.ceil(data.length / BLOCK);
    const blocks = Buffer.alloc(n * BLOCK);
    const hi = v.readUInt32BE(0);
    const mid = v.readUInt32BE(4);
    const w2 = v.readUInt32BE(8) & 0x7fffffff;
    const w3 = v.readUInt32BE(12) & 0x7fffffff;
    for (let i = 0; i < n; i++) {
      const o = i * BLOCK;
      blocks.writeUInt32BE(hi, o);
      blocks.writeUInt32BE(mid, o + 4);
      blocks.writeUInt32BE(w2, o + 8);
      blocks.writeUInt32BE(w3 + i, o + 12);
    }
    const ks = this.ecb.update(blocks);
    const out = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ ks[i]!;
    return out;
  }

  /** The AEAD interface of RFC 5297 section 6: S2V(AD..., nonce, plaintext). Returns IV || ciphertext. */
  seal(plaintext: Uint8Array, associated: readonly Uint8Array[] = [], nonce?: Uint8Array): Buffer {
    const v = this.s2v([...associated, ...(nonce ? [nonce] : []), plaintext]);
    return Buffer.concat([v, this.ctr(v, plaintext)]);
  }

  /** The plaintext, or undefined when the ciphertext or anything authenticated with it was altered. */
  open(sealed: Uint8Array, associated: readonly Uint8Array[] = [], nonce?: Uint8Array): Buffer | undefined {
    if (sealed.length < BLOCK) return undefined;
    const v = Buffer.from(sealed.subarray(0, BLOCK));
    const p = this.ctr(v, sealed.subarray(BLOCK));
    const check = this.s2v([...associated, ...(nonce ? [nonce] : []), p]);
    return timingSafeEqual(check, v) ? p : undefined;
  }
}

/**
 * AES-SIV instances by key, at most `max` (the oldest made is dropped first): making one costs two
 * ciphers, about thirty microseconds, and a client uses the same C2S and S2C keys for every request
 * of its session. Keys only ever come from cookies this server made.
 */
export class SivCache {
  private readonly map = new Map<string, AesSivCmac256>();
  constructor(private readonly max = 1024) {}

  get(key: Uint8Array): AesSivCmac256 {
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    let s = this.map.get(id);
    if (!s) {
      s = new AesSivCmac256(key);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      this.map.set(id, s);
    }
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Random bytes from a 4 KiB pool refilled from node:crypto (one call per few hundred requests
 * instead of one per nonce); no byte is handed out twice. */
export class RandomPool {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  constructor(private readonly fill: (n: number) => Buffer) {}

  take(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      this.buf = this.fill(Math.max(4096, n));
      this.off = 0;
    }
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return out;
  }
}
