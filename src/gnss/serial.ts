/**
 * The serial-port receiver adapter: opens the device (9600 8N1 by default), hands every chunk of bytes
 * to the monitor with its local receive time, and when the device fails or disappears (a USB receiver
 * unplugged, a UART reconfigured) reports it and reopens with backoff. It decides nothing about the
 * data itself.
 */
import { SerialPort } from 'serialport';
import type { Clock, Nanos, Timer } from '../time/index.ts';
import { Backoff } from './backoff.ts';

export interface SerialOptions {
  device: string;
  baud: number;
  reopenMinMs: number;
  reopenMaxMs: number;
}

export interface SerialHandlers {
  bytes(chunk: Buffer, rx: Nanos): void;
  connected(device: string, now: Nanos): void;
  disconnected(reason: string, now: Nanos): void;
}

export class SerialReceiver {
  private port: SerialPort | undefined;
  private backoff: Backoff;
  private retry: Timer | undefined;
  private stopped = false;
  opens = 0;
  lastError: string | undefined;

  constructor(private readonly opts: SerialOptions, private readonly clock: Clock, private readonly h: SerialHandlers) {
    this.backoff = new Backoff(opts.reopenMinMs, opts.reopenMaxMs);
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    const p = this.port;
    this.port = undefined;
    if (p?.isOpen) p.close(() => {});
  }

  write(text: string): void {
    if (this.port?.isOpen) this.port.write(text, 'latin1');
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  private open(): void {
    if (this.stopped) return;
    const port = new SerialPort({
      path: this.opts.device, baudRate: this.opts.baud, dataBits: 8, parity: 'none', stopBits: 1,
      autoOpen: false, lock: false,
    });
    this.port = port;
    let failed = false;
    const fail = (reason: string) => {
      if (failed || this.port !== port) return;
      failed = true;
      this.lastError = reason;
      this.port = undefined;
      if (port.isOpen) port.close(() => {});
      this.h.disconnected(reason, this.clock.now());
      this.schedule();
    };
    port.on('data', (chunk: Buffer) => this.h.bytes(chunk, this.clock.now()));
    port.on('error', (e: Error) => fail(e.message));
    port.on('close', (e?: Error & { disconnected?: boolean }) => {
      if (!this.stopped) fail(e?.message ?? 'device closed');
    });
    port.open((err) => {
      if (err) {
        fail(err.message);
        return;
      }
      this.opens++;
      this.backoff.reset();
      this.h.connected(this.opts.device, this.clock.now());
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.retry?.cancel();
    this.retry = this.clock.setTimeout(() => this.open(), this.backoff.delay());
  }
}
