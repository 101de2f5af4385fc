/**
 * The raw NMEA stream (GET /nmea on the control endpoint, `stratum1 nmea`, like `gpspipe -r`): every
 * line the receiver's byte stream is framed into (serial port or simulator), as received, checksum
 * and all, to at most 8 live readers. It watches the timing path only while someone reads. gpsd
 * sends this agent its decoded reports, not the receiver's sentences: then GET /nmea says so (404).
 */
import { LineStream } from '../control/line-stream.ts';
import type { PartFactory } from './part.ts';

export const NMEA_FROM_GPSD = 'the receiver is read through gpsd, which sends this agent its decoded reports (TPV, SKY), not the receiver\'s NMEA sentences: ' +
  'read the raw stream from gpsd itself (gpspipe -r)';

export const nmeaStream: PartFactory = {
  name: 'nmea-stream',
  wanted: () => true,
  create(ctx) {
    if (ctx.sources.receiver === 'gpsd') {
      return { name: 'nmea-stream', streams: () => ({ nmea: { unavailable: NMEA_FROM_GPSD } }) };
    }
    let unobserve: (() => void) | undefined;
    const stream = new LineStream(undefined, undefined, (active) => {
      unobserve?.();
      unobserve = active ? ctx.timing.observe({ line: (l) => stream.publish(l) }) : undefined;
    });
    return {
      name: 'nmea-stream',
      streams: () => ({ nmea: stream }),
      views: () => ({ 'nmea/streams': () => stream.stats() }),
      stop: () => stream.close(),
    };
  },
};
