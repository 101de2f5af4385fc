/** Server: the PTP grandmaster (IEEE 1588 default profile, UDP/IPv4 multicast) on the disciplined clock. */
import { PtpGrandmaster } from '../ptp/service.ts';
import type { PartFactory } from './part.ts';

export const ptpGrandmaster: PartFactory = {
  name: 'ptp',
  wanted: (cfg) => cfg.ptp.enabled,
  create(ctx) {
    let gm: PtpGrandmaster | undefined;
    return {
      name: 'ptp',
      async start() {
        if (!ctx.listen) return;
        try {
          gm = new PtpGrandmaster(ctx.cfg, ctx.timing.served, ctx.status(), (e) => ctx.bus.emit(e), (msg) => ctx.log.warn(msg));
          for (const e of await gm.start()) ctx.listening(e);
        } catch (e) {
          gm?.close();
          gm = undefined;
          throw new Error(`PTP: cannot serve on interface ${ctx.cfg.ptp.interface}: ${(e as Error).message}`, { cause: e });
        }
      },
      stop: () => gm?.close(),
      everySecond: (st) => gm?.update(st),
      publish: () => (gm ? { ptp: gm.snapshot() } : {}),
    };
  },
};
