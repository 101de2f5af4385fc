/**
 * Kernel PPS through sysfs: /sys/class/pps/ppsN/assert reads "SECONDS.NANOSECONDS#SEQUENCE", the
 * CLOCK_REALTIME timestamp the kernel took in the interrupt handler and its running count. We poll it
 * and report an edge when the sequence moves. (The PPS ioctl API would let us block until an edge,
 * but needs a native addon; at 100 ms polls an edge is seen at most 0.1 s late, and its timestamp is
 * the kernel's, so polling costs no accuracy.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Timer } from '../time/index.ts';
import { parseSysfsTimestamp, type PpsEdge } from './edge.ts';

export interface KernelPpsOptions {
  root: string;
  device: string;
  pollMs: number;
  useClearEdge: boolean;
}

export class KernelPpsSource {
  private timer: Timer | undefined;
  private lastSeq: number | undefined;
  private busy = false;
  readErrors = 0;
  lastError: string | undefined;

  constructor(
    private readonly opts: KernelPpsOptions,
    private readonly clock: Clock,
    private readonly onEdge: (e: PpsEdge) => void,
    private readonly onError: (msg: string) => void = () => {},
  ) {}

  get path(): string {
    return join(this.opts.root, this.opts.device);
  }

  start(): void {
    this.timer = this.clock.setInterval(() => void this.poll(), this.opts.pollMs);
    void this.poll();
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** One read of the assert (and clear) file. Exposed for tests. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const a = parseSysfsTimestamp(await readFile(join(this.path, 'assert'), 'latin1'));
      if (!a || a.sequence === this.lastSeq) return;
      this.lastSeq = a.sequence;
      const edge: PpsEdge = { assert: a.time, sequence: a.sequence };
      if (this.opts.useClearEdge) {
        const c = parseSysfsTimestamp(await readFile(join(this.path, 'clear'), 'latin1').catch(() => '0.000000000#0'));
        if (c) edge.clear = c.time;
      }
      this.onEdge(edge);
    } catch (e) {
      this.readErrors++;
      this.lastError = (e as Error).message;
      this.onError(this.lastError);
    } finally {
      this.busy = false;
    }
  }
}
