/**
 * Who steers the system clock. The default (discipline.actuator: none): the disciplined clock is the host's
 * clock corrected by the discipline, which NTP and PTP serve, and the kernel clock is left to whoever
 * owns it (chronyd, fed by export.chrony_sock, or nobody). `system` (system-actuator.ts) makes the kernel
 * clock itself the disciplined clock, through clock_adjtime: it needs CAP_SYS_TIME, which only the
 * unit of mode (a) grants (docs/DEPLOYMENT.md).
 */
import { addon, addonProblem } from '../native/addon.ts';
import type { KernelClockApi } from './kernel.ts';

/** The real kernel clock through the native addon, or why there is none. */
export function hostKernelClock(): KernelClockApi | string {
  if (!addon) return `the system-clock actuator needs the native addon: ${addonProblem ?? 'not loaded'}`;
  const a = addon;
  return { adjtime: (tx) => a.clockAdjtime(tx) };
}
