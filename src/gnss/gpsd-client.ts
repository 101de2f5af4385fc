/**
 * The gpsd client adapter: a TCP connection to gpsd (port 2947), WATCH with PPS enabled, each JSON
 * line decoded (gpsd-json.ts) and handed on with its local receive time. Reconnects with backoff.
 * Lines are bounded: a peer that sends an endless line is cut off.
 */
import { Socket } from 'node:net';
import type { Clock, Nanos, Timer } from '../time/index.ts';
import { Backoff } from './backoff.ts';
import { decodeGpsd, watchCommand, type GpsdMessage } from './gpsd-json.ts';

export interface GpsdClientOptions {
  host: string;
  port: number;
  device: string;
  reconnectMinMs?: number;
  reconnectMaxMs: number;
}

export interface GpsdHandlers {
  message(m: GpsdMessage, rx: Nanos): void;
  bad(error: string, rx: Nanos): void;
  connected(where: string, now: Nanos): void;
  disconnected(reason: string, now: Nanos): void;
}

const MAX_LINE = 64 * 1024;

export class GpsdClient {
  private sock: Socket | undefined;
  private buf = '';
  private retry: Timer | undefined;
  private stopped = false;
  private backoff: Backoff;
  connects = 0;

  constructor(private readonly opts: GpsdClientOptions, private readonly clock: Clock, private readonly h: GpsdHandlers) {
    this.backoff = new Backoff(opts.reconnectMinMs ?? 250, opts.reconnectMaxMs);
  }

  get where(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    this.sock?.destroy();
    this.sock = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    const s = new Socket();
    this.sock = s;
    this.buf = '';
    let up = false;
    let closed = false;
    s.setEncoding('utf8');
    s.on('connect', () => {
      up = true;
      this.connects++;
      this.backoff.reset();
      this.h.connected(this.where, this.clock.now());
      s.write(watchCommand(this.opts.device));
    });
    s.on('data', (d: string) => this.onData(d, s));
    s.on('error', () => { /* 'close' follows and reports */ });
    s.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.sock === s) this.sock = undefined;
      if (up) this.h.disconnected('connection closed', this.clock.now());
      if (!this.stopped) {
        this.retry = this.clock.setTimeout(() => this.connect(), this.backoff.delay());
      }
    });
    s.connect(this.opts.port, this.opts.host);
  }

  private onData(d: string, s: Socket): void {
    const rx = this.clock.now();
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      const r = decodeGpsd(line);
      if (r.ok) this.h.message(r.msg, rx);
      else this.h.bad(r.error, rx);
    }
    if (this.buf.length > MAX_LINE) {
      this.h.bad(`line longer than ${MAX_LINE} bytes`, rx);
      this.buf = '';
      s.destroy();
    }
  }
}
