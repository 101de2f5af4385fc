/** Source: the kernel's PPS device (/sys/class/pps/ppsN/assert, polled). */
import { KernelPpsSource } from '../pps/sysfs.ts';
import type { PartFactory } from './part.ts';

export const kernelPps: PartFactory = {
  name: 'kernel-pps',
  wanted: (_cfg, src) => src.pps === 'kernel',
  create(ctx) {
    const p = ctx.cfg.pps;
    const device = `${p.sysfs_root}/${p.device}`;
    const source = new KernelPpsSource({ root: p.sysfs_root, device: p.device, pollMs: p.poll_ms, useClearEdge: p.use_clear_edge }, ctx.clock,
      (e) => ctx.timing.pps.onEdge(e, ctx.clock.now()), (msg) => ctx.log.warn('kernel PPS read failed', { device, error: msg }));
    return { name: 'kernel-pps', devices: { pps: device }, start: () => source.start(), stop: () => source.stop() };
  },
};
