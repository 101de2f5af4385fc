/**
 * What the agent shows of gpsd itself (Status gpsd): its version, its devices (path, driver, speed,
 * when it opened them), and its last PPS and TOFF reports with the offsets they carry. Fed every
 * decoded report, whatever the agent uses it for: in monitor-only mode gpsd's own view of its PPS
 * (the system clock at the pulse against the true second) is shown even when the agent takes no PPS
 * from it. Pure: the caller gives each report's receive time.
 */
import { toIso, type Nanos } from '../time/index.ts';
import type { GpsdDeviceStatus, GpsdStatus, GpsdTimeReport } from '../status/status.ts';
import type { GpsdDevice, GpsdMessage } from './gpsd-json.ts';

/** At most this many devices are kept: gpsd serves a handful; a hostile peer cannot grow the list. */
const MAX_DEVICES = 16;

interface TimeSeen { device: string | null; real: Nanos; clock: Nanos; precision: number | null; rx: Nanos; count: number }

const dev = (d: GpsdDevice): GpsdDeviceStatus => ({
  path: d.path, driver: d.driver ?? null, subtype: d.subtype ?? null, activated: d.activated ?? null,
  bps: d.bps ?? null, parity: d.parity ?? null, stopbits: d.stopbits ?? null, cycleS: d.cycleS ?? null,
});

export class GpsdView {
  private release: string | null = null;
  private protocol: string | null = null;
  private devices = new Map<string, GpsdDeviceStatus>();
  private pps: TimeSeen | undefined;
  private toff: TimeSeen | undefined;
  private errors = 0;
  private lastError: string | null = null;
  connected = false;

  constructor(private readonly where: string) {}

  onMessage(m: GpsdMessage, rx: Nanos): void {
    switch (m.class) {
      case 'VERSION':
        this.release = m.release;
        this.protocol = `${m.protoMajor}.${m.protoMinor}`;
        break;
      case 'DEVICES':
        // The whole list, as gpsd has it now (a device it closed is gone from it).
        this.devices = new Map(m.devices.slice(0, MAX_DEVICES).map((d) => [d.path, dev(d)]));
        break;
      case 'DEVICE': {
        // One device's news: merged into what DEVICES said (a DEVICE report may omit fields). Its
        // activation is always this report's: a device gpsd closed is reported without one (shown, not dropped).
        const old = this.devices.get(m.device.path);
        if (!old && this.devices.size >= MAX_DEVICES) break;
        const n = dev(m.device);
        const merged = old ? { ...old, ...Object.fromEntries(Object.entries(n).filter(([, v]) => v !== null)) } as GpsdDeviceStatus : n;
        merged.activated = n.activated;
        this.devices.set(m.device.path, merged);
        break;
      }
      case 'PPS':
      case 'TOFF': {
        const prev = m.class === 'PPS' ? this.pps : this.toff;
        const seen: TimeSeen = { device: m.device ?? null, real: m.real, clock: m.clock, precision: m.precision ?? null, rx, count: (prev?.count ?? 0) + 1 };
        if (m.class === 'PPS') this.pps = seen;
        else this.toff = seen;
        break;
      }
      case 'ERROR':
        this.errors++;
        this.lastError = m.message.slice(0, 200);
        break;
      default:
        break;
    }
  }

  /** gpsd went away: what it said stays (its version and devices), marked not connected. */
  disconnected(): void {
    this.connected = false;
  }

  snapshot(now: Nanos): GpsdStatus {
    const report = (t: TimeSeen | undefined): GpsdTimeReport | null => t === undefined ? null : {
      device: t.device, real: toIso(t.real, 9), clock: toIso(t.clock, 9), offsetNs: Number(t.clock - t.real),
      precision: t.precision, ageS: Math.max(0, Number(now - t.rx) / 1e9), count: t.count,
    };
    return {
      enabled: true, where: this.where, connected: this.connected, release: this.release, protocol: this.protocol,
      devices: [...this.devices.values()].map((d) => ({ ...d })), pps: report(this.pps), toff: report(this.toff),
      errors: this.errors, lastError: this.lastError,
    };
  }
}
