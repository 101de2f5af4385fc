/** Source: the built-in GPS simulator (an MTK3339 byte stream and PPS edges, on the simulated oscillator). */
import { GpsSimulator, type Fault } from '../sim/gps-simulator.ts';
import type { PartFactory } from './part.ts';

export const simulatorSource: PartFactory = {
  name: 'simulator',
  wanted: (_cfg, src) => src.receiver === 'simulator',
  create(ctx) {
    const sc = ctx.cfg.simulator;
    const { gnss, pps, leapTable } = ctx.timing;
    const sim = new GpsSimulator(ctx.trueClock, ctx.simLocal!, {
      seed: sc.seed, ppsJitterNs: sc.pps_jitter_ns, nmeaDelayMs: sc.nmea_delay_ms, nmeaJitterMs: sc.nmea_jitter_ms,
      satellites: sc.satellites, latitude: sc.latitude, longitude: sc.longitude, altitudeM: sc.altitude_m,
      baud: ctx.cfg.receiver.serial.baud, faults: sc.faults.filter((f): f is Fault => !f.kind.startsWith('upstream_')), leapTable,
    }, {
      bytes: (chunk, rx) => gnss.onBytes(chunk, rx),
      edge: (e) => pps.onEdge(e, ctx.clock.now()),
    });
    return {
      name: 'simulator',
      devices: { receiver: 'simulator', pps: 'simulator' },
      start() {
        gnss.connectedTo('simulator', ctx.clock.now());
        sim.start();
      },
      stop: () => sim.stop(),
    };
  },
};
