/** Source: gpsd (the fix and sky from TPV and SKY, PPS edges from its PPS reports), for either or both.
 * Whatever it is used for, Status gpsd shows gpsd itself: version, devices, its PPS and TOFF reports. */
import { GpsdClient } from '../gnss/gpsd-client.ts';
import { GpsdView } from '../gnss/gpsd-view.ts';
import type { PartFactory } from './part.ts';

export const gpsdSource: PartFactory = {
  name: 'gpsd',
  wanted: (_cfg, src) => src.receiver === 'gpsd' || src.pps === 'gpsd',
  create(ctx) {
    const g = ctx.cfg.receiver.gpsd;
    const { gnss, pps } = ctx.timing;
    const useFix = ctx.sources.receiver === 'gpsd';
    const usePps = ctx.sources.pps === 'gpsd';
    let ppsSeq = 0;
    const view = new GpsdView(`${g.host}:${g.port}`);
    const client = new GpsdClient({ host: g.host, port: g.port, device: g.device, reconnectMaxMs: g.reconnect_max_ms }, ctx.clock, {
      // Only when gpsd is the receiver: as a PPS source alone, its outages are not the receiver's.
      connected: (where, t) => {
        view.connected = true;
        if (useFix) gnss.connectedTo(`gpsd ${where}`, t);
      },
      disconnected: (reason, t) => {
        view.disconnected();
        if (useFix) gnss.disconnected(reason, t);
      },
      bad: (error) => ctx.log.warn('bad report from gpsd', { error }),
      message: (m, rx) => {
        view.onMessage(m, rx);
        if (m.class === 'TPV' && useFix) gnss.onExternalFix(m.fix, rx);
        else if (m.class === 'SKY' && useFix) gnss.onExternalSky(m.satellites, rx, m);
        else if (m.class === 'PPS' && usePps) pps.onEdge({ assert: m.clock, sequence: ++ppsSeq, utcSecond: m.real }, rx);
      },
    });
    const where = `gpsd://${g.host}:${g.port}${g.device ? '/' + g.device : ''}`;
    return {
      name: 'gpsd',
      devices: { receiver: useFix ? where : undefined, pps: usePps ? 'gpsd' : undefined },
      start: () => client.start(),
      stop: () => client.stop(),
      publish: (now) => ({ gpsd: view.snapshot(now) }),
    };
  },
};
