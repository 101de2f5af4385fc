/**
 * A part of the agent: a source, a server, the store, an exporter, the alarms. The Service builds the
 * parts the configuration asks for from the registry (parts/index.ts), starts them in registry order,
 * stops them in reverse, builds Status once per tick from what they publish, and hands that one
 * snapshot to every consumer.
 */
import type { Config } from '../config/config.ts';
import type { Clock, Nanos } from '../time/index.ts';
import type { EventBus, AgentEvent } from '../status/events.ts';
import type { Endpoint, Status, PartSections } from '../status/status.ts';
import type { TimingPath } from '../discipline/timing.ts';
import type { Oscillator } from '../sim/oscillator.ts';
import type { Logger } from '../log.ts';
import type { StreamRoute } from '../control/http.ts';


export interface Sources {
  receiver: 'serial' | 'gpsd' | 'simulator';
  pps: 'kernel' | 'gpsd' | 'simulator' | 'none';
}

/** What every part is given. */
export interface PartContext {
  readonly cfg: Config;
  /** The clock true time is read from: the host's, or a SimClock in tests and benches. */
  readonly trueClock: Clock;
  /** The agent's local clock: the host's, or the simulated oscillator's. */
  readonly clock: Clock;
  /** The simulated oscillator, when the receiver is the simulator. */
  readonly oscillator: Oscillator | undefined;
  /** What the simulated receiver stamps its edges and bytes with at a true time: the oscillator, or
   * the kernel clock model on it when the system actuator steers that. */
  readonly simLocal: { localAt(t: Nanos): Nanos } | undefined;
  readonly timing: TimingPath;
  /** Where the receiver's data and the PPS edges come from (the simulator for both under --simulate). */
  readonly sources: Sources;
  readonly bus: EventBus;
  readonly log: Logger;
  /** Whether parts may open listening sockets (not on a virtual clock unless asked). */
  readonly listen: boolean;
  /** Where running processes are looked for (/proc unless a test hands in a tree of its own). */
  readonly procRoot?: string;
  /** The current Status snapshot (built once per tick). */
  status(): Status;
  /** Announces a socket a part listens on (shown at start and in Status). */
  listening(e: Endpoint): void;
  /** Every part's operator actions, by name (for the control endpoint). */
  actions(): Record<string, () => unknown>;
  /** Every part's read-only views, by name (GET /<name> on the control endpoint). */
  views(): Record<string, View>;
  /** Every part's live line streams, by name (GET /<name> on the control endpoint). */
  streams(): Record<string, StreamOffer>;
}

/** A read-only view for the control endpoint: JSON from the query string's parameters. */
export type View = (query: URLSearchParams) => unknown;

/** A live stream for the control endpoint (the raw NMEA), or why there is none here (said with a 404). */
export type StreamOffer = StreamRoute;

export interface Part {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** Its sections of Status, as of `now`. */
  publish?(now: Nanos): Partial<PartSections>;
  /** Once a second, with that second's Status. */
  everySecond?(st: Status): void;
  /** Every event on the bus. */
  onEvent?(e: AgentEvent): void;
  /** What a source names as its device: the receiver's, the PPS's, or both (shown in Status). */
  readonly devices?: { receiver?: string; pps?: string };
  /** Actions a local operator may trigger through the control endpoint (POST /<name>). */
  actions?(): Record<string, () => unknown>;
  /** Read-only answers too large or too rare for Status (the clients table), GET /<name>. */
  views?(): Record<string, View>;
  /** Live line streams (the raw NMEA), GET /<name>: bounded in readers and in what each may owe. */
  streams?(): Record<string, StreamOffer>;
}

/** A registry entry: one line per part in parts/index.ts. */
export interface PartFactory {
  readonly name: string;
  /** Whether the configuration asks for this part. */
  wanted(cfg: Config, sources: Sources): boolean;
  create(ctx: PartContext): Part;
}
