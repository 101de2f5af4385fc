/**
 * The last ten minutes the live page charts: one point a second (the offset and the time error
 * estimate), kept in a fixed ring so it never grows. Fed with each second's
 * Status (Part.everySecond); read by GET /ui/recent. Pure: no clock of its own, no I/O.
 */
import type { Status } from '../status/status.ts';

export interface RecentPoint {
  /** Unix seconds of the Status it came from. */
  t: number;
  offsetNs: number | null;
  timeErrorEstimateNs: number | null;
}

/** Ten minutes at one point a second. */
export const RECENT_POINTS = 600;

export class RecentRing {
  private readonly points: RecentPoint[] = [];
  private next = 0;

  constructor(readonly capacity = RECENT_POINTS) {}

  add(st: Status): void {
    const p: RecentPoint = { t: st.timeUnixS, offsetNs: st.discipline.offsetNs, timeErrorEstimateNs: st.discipline.timeErrorEstimateNs };
    if (this.points.length < this.capacity) this.points.push(p);
    else this.points[this.next] = p;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): RecentPoint[] {
    return this.points.length < this.capacity ? [...this.points] : [...this.points.slice(this.next), ...this.points.slice(0, this.next)];
  }
}
