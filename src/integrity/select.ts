/**
 * Which upstream servers agree (pure): Marzullo's intersection, as RFC 5905's clock select uses it.
 * Each server says the true time lies within [offset - root distance, offset + root distance] of the
 * served clock. The largest group whose intervals share a point is found by a sweep over the sorted
 * end points; it is a majority only if it holds more than half of the servers configured (not just of
 * those answering: two of five agreeing while three are silent is no majority). Servers whose interval
 * misses the shared part are falsetickers, and are named.
 *
 * Two disjoint groups cannot both be a majority, so the answer is unique.
 */

export interface Candidate {
  name: string;
  offsetNs: number;
  rootDistanceNs: number;
}

export interface Selection {
  /** How many servers must agree: more than half of those configured. */
  required: number;
  /** The part every member's interval shares (offsets from the served clock, ns), the members' offsets
   * combined (weighted by 1 / root distance), and who they are; undefined when no majority agrees. */
  majority: { lowNs: number; highNs: number; offsetNs: number; members: string[] } | undefined;
  falsetickers: string[];
}

export function selectMajority(cands: readonly Candidate[], configured: number): Selection {
  const required = Math.floor(configured / 2) + 1;
  const none: Selection = { required, majority: undefined, falsetickers: [] };
  if (cands.length < required) return none;
  const points: { v: number; d: 1 | -1 }[] = [];
  for (const c of cands) {
    const r = Math.max(0, c.rootDistanceNs);
    points.push({ v: c.offsetNs - r, d: 1 }, { v: c.offsetNs + r, d: -1 });
  }
  // At equal values an interval that starts is counted before one that ends: touching intervals agree.
  points.sort((a, b) => a.v - b.v || b.d - a.d);
  let count = 0;
  let best = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    count += p.d;
    if (p.d === 1 && count > best) {
      best = count;
      lo = p.v;
      hi = points[i + 1]!.v; // the next end point closes the deepest stretch
    }
  }
  if (best < required) return none;
  const overlaps = (c: Candidate) => c.offsetNs - c.rootDistanceNs <= hi && c.offsetNs + c.rootDistanceNs >= lo;
  const members = cands.filter(overlaps);
  const falsetickers = cands.filter((c) => !overlaps(c)).map((c) => c.name);
  let wsum = 0;
  let acc = 0;
  for (const m of members) {
    const w = 1 / Math.max(1, m.rootDistanceNs);
    wsum += w;
    acc += w * m.offsetNs;
  }
  return {
    required,
    majority: { lowNs: lo, highNs: hi, offsetNs: acc / wsum, members: members.map((m) => m.name) },
    falsetickers,
  };
}

/** What the selection makes of one server: a peer's own state (polling, unreachable, refused, or
 * answering and fit to vote or not), judged against the majority when there is one. */
export function serverState(peer: { name: string; state: 'polling' | 'unreachable' | 'refused'; fit: boolean; offsetNs: number | undefined }, sel: Selection):
  'majority' | 'falseticker' | 'candidate' | 'unfit' | 'unreachable' | 'refused' | 'polling' {
  if (peer.state !== 'polling') return peer.state;
  if (peer.offsetNs === undefined) return 'polling';
  if (!peer.fit) return 'unfit';
  if (!sel.majority) return 'candidate';
  return sel.majority.members.includes(peer.name) ? 'majority' : 'falseticker';
}
