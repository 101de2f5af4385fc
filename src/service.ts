/**
 * One running agent, as wiring only: the clocks, the timing path (discipline/timing.ts), and the parts
 * the configuration asks for (parts/index.ts), started in registry order and stopped in reverse. Status
 * is built from the timing path and what the parts publish once per tick and once per event (never
 * per reader), and that one snapshot is what every consumer reads. Decisions live in the rooms.
 */
import type { Config } from './config/config.ts';
import { type Clock, type Nanos, type Timer, SimClock } from './time/index.ts';
import { EventBus, type AgentEvent } from './status/events.ts';
import { buildStatus, type Status, type Endpoint, type PartSections } from './status/status.ts';
import { Oscillator, OscillatorClock } from './sim/oscillator.ts';
import { KernelClockModel } from './discipline/kernel.ts';
import { TimingPath } from './discipline/timing.ts';
import { PARTS } from './parts/index.ts';
import type { Part, PartContext, Sources, View, StreamOffer } from './parts/part.ts';
import type { HistoryPart } from './parts/history.ts';
import type { NtpPart } from './parts/ntp.ts';
import type { Logger } from './log.ts';
import { VERSION } from './version.ts';

export interface ServiceOptions {
  /** The clock true time is read from: SystemClock in production, SimClock in tests. */
  clock: Clock;
  simulate: boolean;
  log: Logger;
  /**
   * Open the listening sockets: NTP, SNMP (and its traps), PTP, the control and metrics endpoints.
   * Default: yes on a real clock, no on a virtual one (SimClock), so a test or a bench running in
   * virtual time binds no real port unless it asks to.
   */
  listen?: boolean;
  /** Where running time daemons are looked for before the system actuator starts (default /proc). */
  procRoot?: string;
}

/** The periodic step: the timing path's tick and a new Status snapshot; parts see every fourth (1 s). */
const TICK_MS = 250;

export class Service {
  readonly bus: EventBus;
  readonly timing: TimingPath;
  /** The clock the agent reads as "local": the system clock, or the simulated oscillator. */
  readonly localClock: Clock;
  readonly oscillator: Oscillator | undefined;
  /** With the simulator and discipline.actuator system: the kernel clock the actuator steers (a model
   * on the simulated oscillator; the host's clock is never touched under simulation). */
  readonly kernelModel: KernelClockModel | undefined;
  readonly sources: Sources;
  readonly listening: Endpoint[] = [];
  readonly parts: readonly Part[];
  private readonly startedAt: Nanos;
  private current: Status;
  private ticker: Timer | undefined;
  private lastSecond: bigint | undefined;

  constructor(readonly cfg: Config, private readonly opts: ServiceOptions) {
    const log = opts.log;
    this.bus = new EventBus(100, (err, e) => log.error('event subscriber failed', { event: e.type, error: String(err) }));
    this.sources = opts.simulate ? { receiver: 'simulator', pps: 'simulator' } : { receiver: cfg.receiver.source, pps: cfg.pps.source };
    let simLocal: { localAt(t: Nanos): Nanos } | undefined;
    if (this.sources.receiver === 'simulator') {
      const sc = cfg.simulator;
      this.oscillator = new Oscillator({
        initialOffsetNs: sc.initial_offset_ms * 1e6, frequencyPpm: sc.frequency_ppm, wanderPpbPerSqrtS: sc.wander_ppb_per_sqrt_s, seed: sc.seed,
      }, opts.clock.now());
      const osc = this.oscillator;
      const oscClock = new OscillatorClock(opts.clock, osc);
      if (cfg.discipline.actuator === 'system') {
        const model = new KernelClockModel(oscClock);
        this.kernelModel = model;
        this.localClock = model;
        simLocal = { localAt: (t) => model.realAt(osc.localAt(t)) };
      } else {
        this.localClock = oscClock;
        simLocal = osc;
      }
    } else {
      this.localClock = opts.clock;
    }
    this.startedAt = this.localClock.now();
    const emit = (e: AgentEvent) => this.bus.emit(e);
    this.timing = new TimingPath(cfg, this.localClock, emit, log, this.kernelModel);
    const ctx: PartContext = {
      cfg, trueClock: opts.clock, clock: this.localClock, oscillator: this.oscillator, simLocal, timing: this.timing, sources: this.sources,
      bus: this.bus, log, listen: opts.listen ?? !(opts.clock instanceof SimClock), procRoot: opts.procRoot,
      status: () => this.current, listening: (e) => this.listening.push(e),
      actions: () => Object.assign({}, ...this.parts.map((p) => p.actions?.() ?? {})) as Record<string, () => unknown>,
      views: () => Object.assign({}, ...this.parts.map((p) => p.views?.() ?? {})) as Record<string, View>,
      streams: () => Object.assign({}, ...this.parts.map((p) => p.streams?.() ?? {})) as Record<string, StreamOffer>,
    };
    this.parts = PARTS.filter((f) => f.wanted(cfg, this.sources)).map((f) => f.create(ctx));
    // An event is a change of state: the snapshot is rebuilt before the parts hear of it, so a
    // notification or a history row describes the state the event announces, not the one before it.
    this.bus.onAny((e) => {
      this.rebuild();
      for (const p of this.parts) if (p.onEvent) this.guard(p, 'onEvent', () => p.onEvent!(e));
    });
    this.current = this.buildStatus();
  }

  /** A part by its registry name, if the configuration runs it. */
  part<T extends Part = Part>(name: string): T | undefined {
    return this.parts.find((p) => p.name === name) as T | undefined;
  }

  get gnss() { return this.timing.gnss; }
  get pps() { return this.timing.pps; }
  get discipline() { return this.timing.discipline; }
  /** The clock NTP and PTP serve: the local clock corrected by the discipline. */
  get disciplinedClock() { return this.timing.served; }
  get history() { return this.part<HistoryPart>('history')?.history; }
  get ntpCore() { return this.part<NtpPart>('ntp')?.core; }

  /** The receiver's and the PPS's devices, as their sources name them ('none' without a source). */
  get receiverDevice(): string {
    return this.parts.find((p) => p.devices?.receiver)?.devices?.receiver ?? 'none';
  }

  get ppsDevice(): string {
    return this.parts.find((p) => p.devices?.pps)?.devices?.pps ?? 'none';
  }

  /** The current Status snapshot (rebuilt every tick, shared by every consumer). */
  status(): Status {
    return this.current;
  }

  async start(): Promise<void> {
    this.bus.emit({ type: 'agentStarted', at: this.localClock.now(), version: VERSION });
    this.timing.start((e) => this.bus.emit(e), this.opts.procRoot);
    for (const p of this.parts) await p.start?.();
    this.current = this.buildStatus();
    this.ticker = this.localClock.setInterval(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    this.timing.tick(this.localClock.now());
    this.rebuild();
    // Once in each second of the local clock, at the first tick of it: a tick that runs late (a busy
    // event loop, timers drifting) never makes a second be skipped or counted twice, as every fourth
    // tick did (the history then had a hole: found on a loaded CI machine).
    const second = this.localClock.now() / 1_000_000_000n;
    if (second !== this.lastSecond) {
      const first = this.lastSecond === undefined;
      this.lastSecond = second;
      if (first) return;
      const st = this.current;
      for (const p of this.parts) if (p.everySecond) this.guard(p, 'everySecond', () => p.everySecond!(st));
    }
  }

  /** A part that throws is logged and skipped; the others, and the snapshot, go on. */
  private guard(p: Part, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.log.error('part failed', { part: p.name, in: what, error: String(err) });
    }
  }

  /** A new snapshot; if building one fails, readers keep the previous one (and the failure is logged). */
  private rebuild(): void {
    try {
      this.current = this.buildStatus();
    } catch (err) {
      this.opts.log.error('building Status failed', { error: String(err) });
    }
  }

  private buildStatus(): Status {
    const now = this.localClock.now();
    const s: Partial<PartSections> = {};
    for (const p of this.parts) {
      if (p.publish) {
        this.guard(p, 'publish', () => {
          const sec = p.publish!(now);
          // Each partner part publishes its own member of partners: merged, not replaced.
          Object.assign(s, sec, sec.partners ? { partners: { ...s.partners, ...sec.partners } } : {});
        });
      }
    }
    const info = {
      name: this.cfg.agent.name, version: VERSION, pid: process.pid, startedAt: this.startedAt,
      receiverSource: this.sources.receiver, ppsSource: this.sources.pps, receiverDevice: this.receiverDevice,
      ppsDevice: this.ppsDevice, simulated: this.sources.receiver === 'simulator', listening: this.listening,
    };
    const t = this.timing;
    return buildStatus(now, {
      agent: info, gnss: t.gnss.snapshot(now), pps: t.pps.snapshot(now), discipline: t.discipline.snapshot(now), actuator: t.system?.snapshot(),
      events: { counts: this.bus.counts as Record<string, number>, recent: this.bus.recent() }, ...s,
    });
  }

  async stop(reason = 'stopped'): Promise<void> {
    this.bus.emit({ type: 'agentStopping', at: this.localClock.now(), reason });
    this.timing.saveFrequency(true);
    this.ticker?.cancel();
    for (const p of [...this.parts].reverse()) await p.stop?.();
    this.timing.stop();
  }
}
