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
    // The setup under way, if any: cancelled when the port reconnects (a new setup starts) and on stop.
    let setup: { cancel(): void } | undefined;
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
      setup?.cancel();
      const run = { cancel: () => {} };
      const acks: { onAck?(command: number, flag: number): void } = {};
      const unobserve = ctx.timing.observe({ output: (o) => { if (o.kind === 'mtkAck') acks.onAck?.(o.command, o.flag); } });
      const h = runMtkSetup((t) => serial.write(t), (fn, ms) => ctx.clock.setTimeout(fn, ms), (acked, failed) => {
        unobserve();
        if (setup === run) setup = undefined;
        ctx.bus.emit({ type: 'receiverConfigured', at: ctx.clock.now(), acked, failed: failed.map((f) => f.id) });
        if (failed.length) ctx.log.warn('MTK commands not acknowledged', { failed });
      });
      acks.onAck = (command, flag) => h.onAck(command, flag);
      run.cancel = () => {
        h.cancel();
        unobserve();
      };
      setup = run;
    };
    return {
      name: 'serial',
      devices: { receiver: sc.device },
      start: () => serial.start(),
      stop: () => {
        setup?.cancel();
        setup = undefined;
        serial.stop();
      },
    };
  },
};
