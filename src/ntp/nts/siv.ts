/**
 * AEAD_AES_SIV_CMAC_256 (RFC 5297), the one AEAD NTS requires (RFC 8915, algorithm 15), built on
 * node:crypto's AES: AES-CMAC (RFC 4493) from AES-128 in ECB (the subkeys) and CBC with a zero IV (the
 * chaining), S2V over the associated data, the nonce and the plaintext, and AES-128-CTR started at the
 * synthetic IV with bits 31 and 63 cleared. Pure: no I/O, no state beyond the key.
 *
 * A 32-byte key is K1 (CMAC, the first half) then K2 (CTR, the second half). Sealed output is the
 * 16-byte synthetic IV followed by the ciphertext, as long as the plaintext.
 */
import { createCipheriv, timingSafeEqual } from 'node:crypto';

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

/** AES-CMAC (RFC 4493) with a 16-byte key. */
export class Cmac {
  private readonly k1: Buffer;
  private readonly k2: Buffer;
  constructor(private readonly key: Buffer) {
    if (key.length !== 16) throw new Error(`AES-CMAC: key of ${key.length} bytes, not 16`);
    const e = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    const l = Buffer.concat([e.update(ZERO), e.final()]);
    this.k1 = dbl(l);
    this.k2 = dbl(this.k1);
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
    const c = createCipheriv('aes-128-cbc', this.key, ZERO).setAutoPadding(false);
    const out = c.update(buf);
    c.final();
    return out.subarray(out.length - BLOCK);
  }
}

export class AesSivCmac256 {
  private readonly cmac: Cmac;
  private readonly ctrKey: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error(`AES-SIV-CMAC-256: key of ${key.length} bytes, not 32`);
    this.cmac = new Cmac(Buffer.from(key.subarray(0, 16)));
    this.ctrKey = Buffer.from(key.subarray(16, 32));
  }

  /** S2V (RFC 5297 section 2.4) over the strings; the last is the plaintext. */
  private s2v(strings: readonly Uint8Array[]): Buffer {
    if (strings.length === 0) return this.cmac.mac(Buffer.from([...ZERO.subarray(0, 15), 1]));
    let d = this.cmac.mac(ZERO);
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

  private ctr(v: Buffer, data: Uint8Array): Buffer {
    const q = Buffer.from(v);
    q[8]! &= 0x7f;
    q[12]! &= 0x7f;
    const c = createCipheriv('aes-128-ctr', this.ctrKey, q);
    return Buffer.concat([c.update(data), c.final()]);
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
