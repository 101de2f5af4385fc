/** Source: a receiver on a serial port (NMEA), with the MTK3339 set up on connect when configured. */
import { SerialReceiver } from '../gnss/serial.ts';
import { runMtkSetup } from '../gnss/mtk.ts';
import type { PartFactory } from './part.ts';

export const serialSource: PartFactory = {
  name: 'serial',
  wanted: (_cfg, src) => src.receiver === 'serial',
  create(ctx) {
    const sc = ctx.cfg.receiver.serial;
    const { gnss } = ctx.timing;
    let unobserve: (() => void) | undefined;
    const serial: SerialReceiver = new SerialReceiver({ device: sc.device, baud: sc.baud, reopenMinMs: sc.reopen_min_ms, reopenMaxMs: sc.reopen_max_ms }, ctx.clock, {
      bytes: (chunk, rx) => gnss.onBytes(chunk, rx),
      connected: (device, t) => {
        gnss.connectedTo(device, t);
        if (sc.configure_mtk) configureMtk();
      },
      disconnected: (reason, t) => gnss.disconnected(reason, t),
    });
    // The MTK commands are acknowledged by $PMTK001 sentences, which the receiver state reports.
    const configureMtk = () => {
      unobserve?.();
      const h = runMtkSetup((t) => serial.write(t), (fn, ms) => ctx.clock.setTimeout(fn, ms), (acked, failed) => {
        unobserve?.();
        unobserve = undefined;
        ctx.bus.emit({ type: 'receiverConfigured', at: ctx.clock.now(), acked, failed: failed.map((f) => f.id) });
        if (failed.length) ctx.log.warn('MTK commands not acknowledged', { failed });
      });
      unobserve = ctx.timing.observe({ output: (o) => { if (o.kind === 'mtkAck') h.onAck(o.command, o.flag); } });
    };
    return {
      name: 'serial',
      start: () => serial.start(),
      stop: () => {
        unobserve?.();
        serial.stop();
      },
    };
  },
};
