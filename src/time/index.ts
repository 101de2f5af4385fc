export * from './timestamp.ts';
export type { Clock, Timer } from './clock.ts';
export { SystemClock, calibrateRealtimeOffset, measurePrecisionLog2 } from './system-clock.ts';
export { SimClock } from './sim-clock.ts';
