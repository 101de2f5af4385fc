/**
 * The project's native addon (native/udp_ts.c, built by `npm ci` through node-gyp): CLOCK_REALTIME at
 * full resolution, and UDP sockets with kernel receive and transmit timestamps. Everything that uses
 * it has a pure-Node fallback; `addon` is undefined (and `addonProblem` says why) when it is not built.
 * It imports nothing of ours, so time/ may use it.
 */
import { createRequire } from 'node:module';

export interface Addon {
  realtimeNs(): bigint;
  open(port: number, bind: string, group: string | null, iface: string | null,
    onMessage: (buf: Buffer, sec: number, nsec: number, address: string, port: number) => void, recvBufferBytes?: number, reuse?: boolean): { port: number };
  sendTo(h: { port: number }, buf: Buffer, address: string, port: number): number;
  close(h: { port: number }): void;
  openTx(iface: string, group: string, port: number): object;
  sendStamped(h: object, buf: Buffer): [number, number] | null;
  closeTx(h: object): void;
}

export let addon: Addon | undefined;
export let addonProblem: string | undefined;
if (process.env.STRATUM1_NO_NATIVE) {
  addonProblem = 'disabled by STRATUM1_NO_NATIVE';
} else {
  try {
    addon = createRequire(import.meta.url)('../../build/Release/udp_ts.node') as Addon;
  } catch (e) {
    addonProblem = `native addon not loaded (${(e as Error).message.split('\n')[0]})`;
  }
}
