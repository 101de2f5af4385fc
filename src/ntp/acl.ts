/** Allow and deny lists of CIDR prefixes, IPv4 and IPv6 (pure). */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  v6: boolean;
  bits: number;
  addr: bigint;
  text: string;
}

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6ToBig(a: string): bigint {
  let s = a;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4tail) {
    const v = v4ToBig(v4tail[1]!);
    s = s.slice(0, -v4tail[1]!.length) + `${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail !== undefined ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function parseCidr(text: string): Cidr {
  const [a, b] = text.split('/');
  const addr = a ?? '';
  if (isIPv4(addr)) {
    const bits = b === undefined ? 32 : Number(b);
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`bad prefix length in ${text}`);
    return { v6: false, bits, addr: v4ToBig(addr), text };
  }
  if (isIPv6(addr)) {
    const bits = b === undefined ? 128 : Number(b);
    if (!Number.isInteger(bits) || bits < 0 || bits > 128) throw new Error(`bad prefix length in ${text}`);
    return { v6: true, bits, addr: v6ToBig(addr), text };
  }
  throw new Error(`not an IPv4 or IPv6 address: ${text}`);
}

export function cidrContains(c: Cidr, address: string): boolean {
  let a = address;
  if (!c.v6 && a.startsWith('::ffff:') && isIPv4(a.slice(7))) a = a.slice(7);
  if (c.v6 ? !isIPv6(a) : !isIPv4(a)) return false;
  const width = c.v6 ? 128n : 32n;
  const v = c.v6 ? v6ToBig(a) : v4ToBig(a);
  const shift = width - BigInt(c.bits);
  return v >> shift === c.addr >> shift;
}

/** Deny wins; an empty allow list allows everyone not denied. */
export class AccessList {
  private allow: Cidr[];
  private deny: Cidr[];
  private cache = new Map<string, boolean>();

  constructor(allow: string[], deny: string[]) {
    this.allow = allow.map(parseCidr);
    this.deny = deny.map(parseCidr);
  }

  permits(address: string): boolean {
    const hit = this.cache.get(address);
    if (hit !== undefined) return hit;
    const ok = !this.deny.some((c) => cidrContains(c, address)) && (this.allow.length === 0 || this.allow.some((c) => cidrContains(c, address)));
    if (this.cache.size > 4096) this.cache.clear();
    this.cache.set(address, ok);
    return ok;
  }
}
