/**
 * One running agent: wires the sources (serial or gpsd receiver, kernel or gpsd PPS, or the built-in
 * simulator) to the monitors, the monitors to the event bus and the Status snapshot, and Status to the
 * control endpoint. Owns no decisions of its own.
 */
import type { Config } from './config/config.ts';
import { type Clock, type Nanos, type Timer, fromDate, toIso } from './time/index.ts';
import { EventBus, type AgentEvent } from './status/events.ts';
import { buildStatus, PTP_DISABLED, STORE_DISABLED, type Status, type Endpoint, type AgentInfo } from './status/status.ts';
import { GnssMonitor } from './gnss/monitor.ts';
import { PpsMonitor } from './pps/monitor.ts';
import { KernelPpsSource } from './pps/sysfs.ts';
import { SerialReceiver } from './gnss/serial.ts';
import { GpsdClient } from './gnss/gpsd-client.ts';
import { runMtkSetup } from './gnss/mtk.ts';
import { Oscillator, OscillatorClock } from './sim/oscillator.ts';
import { GpsSimulator } from './sim/gps-simulator.ts';
import { ControlServer } from './control/http.ts';
import { Discipline } from './discipline/discipline.ts';
import { KalmanServo, PiServo, type Servo } from './discipline/servo.ts';
import { parseLeapSecondsList, isExpired, type LeapTable } from './discipline/leap.ts';
import { loadDrift, saveDrift, agedSigma } from './discipline/drift-file.ts';
import { DisciplinedClock } from './discipline/clock.ts';
import { makeActuator, type ClockActuator } from './discipline/actuator.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NtpServerCore, RateMeter, type NtpServerState } from './ntp/server.ts';
import { NtpUdpServer } from './ntp/udp.ts';
import { AccessList } from './ntp/acl.ts';
import { measurePrecisionLog2, SimClock } from './time/index.ts';
import { SnmpAgent } from './snmp/agent.ts';
import { TrapSender } from './snmp/traps.ts';
import { AgentxSubagent } from './snmp/agentx.ts';
import type { V4Context } from './snmp/ntpv4-mib.ts';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { AlarmEngine } from './alarms/engine.ts';
import { rulesFromConfig, metricsFrom, readCpuTemperature } from './alarms/rules.ts';
import { History } from './store/history.ts';
import { MetricsServer } from './export/metrics-http.ts';
import { exposition } from './export/prometheus.ts';
import { InfluxExporter, INFLUX_DISABLED } from './export/influx.ts';
import { PtpGrandmaster } from './ptp/service.ts';
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
}

export class Service {
  readonly bus: EventBus;
  readonly gnss: GnssMonitor;
  readonly pps: PpsMonitor;
  readonly discipline: Discipline;
  /** The clock NTP and PTP serve: the local clock corrected by the discipline. */
  readonly disciplinedClock: DisciplinedClock;
  readonly leapTable: LeapTable | undefined;
  readonly actuator: ClockActuator;
  private lastDriftSave: Nanos | undefined;
  readonly ntpCore: NtpServerCore | undefined;
  private ntpUdp: NtpUdpServer | undefined;
  private ntpState: NtpServerState;
  private ntpRate = new RateMeter();
  private snmp: SnmpAgent | undefined;
  private snmpTimer: Timer | undefined;
  traps: TrapSender | undefined;
  private agentx: AgentxSubagent | undefined;
  readonly alarms: AlarmEngine;
  readonly history: History | undefined;
  readonly influx: InfluxExporter | undefined;
  ptp: PtpGrandmaster | undefined;
  private alarmTimer: Timer | undefined;
  private heartbeat: Timer | undefined;
  private pendingWarnings: { level?: 'info'; msg: string; fields: Record<string, unknown> }[] = [];
  /** The clock the agent reads as "local": the system clock, or the simulated oscillator. */
  readonly localClock: Clock;
  readonly simulator: GpsSimulator | undefined;
  readonly oscillator: Oscillator | undefined;
  private serial: SerialReceiver | undefined;
  private gpsd: GpsdClient | undefined;
  private kernelPps: KernelPpsSource | undefined;
  private control: ControlServer | undefined;
  private metrics: MetricsServer | undefined;
  private ticker: Timer | undefined;
  private mtkAck: ((c: number, f: number) => void) | undefined;
  private gpsdPpsSeq = 0;
  private readonly startedAt: Nanos;
  readonly listening: Endpoint[] = [];
  readonly receiverSource: AgentInfo['receiverSource'];
  readonly ppsSource: AgentInfo['ppsSource'];

  constructor(readonly cfg: Config, private readonly opts: ServiceOptions) {
    const log = opts.log;
    this.bus = new EventBus(100, (err, e) => log.error('event subscriber failed', { event: e.type, error: String(err) }));
    this.receiverSource = opts.simulate ? 'simulator' : cfg.receiver.source;
    this.ppsSource = opts.simulate ? 'simulator' : cfg.pps.source;
    if (this.receiverSource === 'simulator') {
      const sc = cfg.simulator;
      const start = opts.clock.now();
      this.oscillator = new Oscillator({
        initialOffsetNs: sc.initial_offset_ms * 1e6, frequencyPpm: sc.frequency_ppm,
        wanderPpbPerSqrtS: sc.wander_ppb_per_sqrt_s, seed: sc.seed,
      }, start);
      this.localClock = new OscillatorClock(opts.clock, this.oscillator);
    } else {
      this.localClock = opts.clock;
    }
    this.startedAt = this.localClock.now();
    this.leapTable = this.loadLeapTable();
    const emit = (e: AgentEvent) => this.bus.emit(e);
    this.gnss = new GnssMonitor({
      fixLostAfterS: cfg.receiver.fix_lost_after_s, silenceAfterS: cfg.receiver.serial.silence_after_s,
      externalAntenna: cfg.receiver.external_antenna, minValidDate: fromDate(new Date(`${cfg.receiver.min_valid_date}T00:00:00Z`)),
    }, emit);
    this.pps = new PpsMonitor({
      minIntervalS: cfg.pps.min_interval_s, maxIntervalS: cfg.pps.max_interval_s, lostAfterS: cfg.pps.lost_after_s,
    }, emit);
    const d = cfg.discipline;
    const servo: Servo = d.servo === 'pi'
      ? new PiServo({ kp: 0.7, ki: 0.3, outlierNs: 100 * d.pps_jitter_ns, reacquireAfter: d.reacquire_after })
      : new KalmanServo({ wanderPpbPerSqrtS: d.wander_ppb_per_sqrt_s, initialFreqSigmaPpb: 100_000, outlierSigma: 5, reacquireAfter: d.reacquire_after });
    const drift = loadDrift(this.driftPath);
    if (drift.ok) {
      servo.seedFrequency(drift.record.freqPpb, agedSigma(drift.record, this.startedAt, d.wander_ppb_per_sqrt_s));
      this.pendingWarnings.push({ level: 'info', msg: 'frequency loaded', fields: { file: this.driftPath, freqPpb: drift.record.freqPpb } });
    } else if (!drift.missing) {
      this.pendingWarnings.push({ msg: 'frequency file ignored', fields: { problem: drift.problem } });
    }
    this.discipline = new Discipline({
      pairing: { nmeaDelayS: d.nmea_delay_s, windowS: d.window_s, trustAfter: d.trust_after },
      lockMinSamples: d.lock_min_samples, lockErrorNs: d.lock_error_ns, lockFreqSigmaPpb: d.lock_freq_sigma_ppb, holdoverAfterS: d.holdover_after_s,
      relockAfter: d.relock_after, holdoverBudgetNs: d.holdover_budget_us * 1000,
      outOfBudgetClockClass: d.out_of_budget_clock_class === 187 ? 187 : 52,
      timestampingErrorNs: d.timestamping_error_us * 1000, defaultJitterNs: d.pps_jitter_ns, minJitterNs: 100, errorK: d.error_k,
    }, servo, this.leapTable, emit, this.startedAt);
    this.disciplinedClock = new DisciplinedClock(this.localClock, (t) => this.discipline.correctionAt(t));
    this.actuator = makeActuator(d.actuator);
    this.alarms = new AlarmEngine(rulesFromConfig(cfg.alarms as Parameters<typeof rulesFromConfig>[0]));
    const n = cfg.ntp;
    if (n.enabled) {
      this.ntpCore = new NtpServerCore({
        rateLimit: { enabled: n.rate_limit.enabled, intervalS: n.rate_limit.interval_s, burst: n.rate_limit.burst, slots: n.rate_limit.slots, kod: n.rate_limit.kod },
        denyAction: n.deny_action,
      }, n.allow.length || n.deny.length ? new AccessList(n.allow, n.deny) : undefined);
    }
    this.ntpState = { leapIndicator: 3, stratum: 16, refId: 'INIT', rootDispersionS: 16, rootDelayS: 0, refTime: 0n, precisionLog2: -20 };
    if (cfg.store.enabled) {
      this.history = new History(cfg, this.disciplinedClock, this.bus, (level, msg, fields) => log.log(level, msg, fields));
    }
    if (cfg.influx.enabled) {
      const x = cfg.influx;
      this.influx = new InfluxExporter({
        url: x.url, database: x.database, retentionPolicy: x.retention_policy, username: x.username, password: x.password,
        createDatabase: x.create_database, intervalS: x.interval_s, batchPoints: x.batch_points, timeoutMs: x.timeout_ms,
        tags: { host: x.host_tag || cfg.agent.name, source: this.receiverSource },
        queue: { path: resolve(cfg.agent.state_dir, x.queue_file), maxPoints: x.queue_max_points, maxAgeS: x.queue_max_age_s },
      }, this.disciplinedClock, () => this.status(), (level, msg, fields) => log.log(level, msg, fields));
      this.bus.onAny((e) => this.influx?.onEvent(e));
    }
    this.pps.onEdgeHook = (e) => this.discipline.onEdge(e.assert);
    this.gnss.onLabelHook = (utc, leap, fixValid, rx) => this.discipline.onLabel(utc, leap, fixValid, rx);
    this.gnss.onOutputHook = (o) => {
      if (o.kind === 'mtkAck') this.mtkAck?.(o.command, o.flag);
    };
    this.bus.onAny((e) => {
      const { type, at, ...rest } = e;
      const level = type === 'fixLost' || type === 'ppsLost' || type === 'antennaFault' || type === 'receiverSilent' ||
        type === 'receiverDisconnected' || type === 'timeJump' || type === 'dateRejected' || type === 'leapTableProblem' ||
        type === 'holdoverEntered' || type === 'clockStepped' || type === 'alarmRaised' || type === 'storeFailed' || type === 'ptpBetterMaster' ? 'warn'
        : type === 'storeMovedAside' ? 'error' : 'info';
      log.log(level, type, { at: toIso(at, 3), ...rest });
    });

    if (this.receiverSource === 'simulator') {
      const sc = cfg.simulator;
      this.simulator = new GpsSimulator(opts.clock, this.oscillator!, {
        seed: sc.seed, ppsJitterNs: sc.pps_jitter_ns, nmeaDelayMs: sc.nmea_delay_ms, nmeaJitterMs: sc.nmea_jitter_ms,
        satellites: sc.satellites, latitude: sc.latitude, longitude: sc.longitude, altitudeM: sc.altitude_m,
        baud: cfg.receiver.serial.baud, faults: sc.faults, leapTable: this.leapTable,
      }, {
        bytes: (chunk, rx) => this.gnss.onBytes(chunk, rx),
        edge: (e) => this.pps.onEdge(e, this.localClock.now()),
      });
    }
  }

  get driftPath(): string {
    return resolve(this.cfg.agent.state_dir, this.cfg.discipline.drift_file);
  }

  private loadLeapTable(): LeapTable | undefined {
    const file = this.cfg.discipline.leap_seconds_file;
    if (!file) return undefined;
    try {
      const t = parseLeapSecondsList(readFileSync(file, 'utf8'));
      if (isExpired(t, this.startedAt)) {
        this.pendingWarnings.push({ msg: 'leap second table expired: update tzdata', fields: { file } });
      }
      return t;
    } catch (e) {
      this.pendingWarnings.push({ msg: 'no leap second table', fields: { file, problem: (e as Error).message } });
      return undefined;
    }
  }

  /** Saves the learned frequency if the clock is locked (or `force` on stop, if it ever locked). */
  saveFrequency(force = false): void {
    const snap = this.discipline.snapshot(this.localClock.now());
    if (snap.freqPpb === undefined || snap.freqSigmaPpb === undefined || !Number.isFinite(snap.freqSigmaPpb)) return;
    if (!(snap.state === 'LOCKED' || (force && snap.everLocked))) return;
    try {
      saveDrift(this.driftPath, { freqPpb: snap.freqPpb, sigmaPpb: snap.freqSigmaPpb, savedAt: this.localClock.now() });
      this.lastDriftSave = this.localClock.now();
    } catch (e) {
      this.opts.log.warn('could not save the frequency', { file: this.driftPath, error: (e as Error).message });
    }
  }

  get receiverDevice(): string {
    switch (this.receiverSource) {
      case 'simulator': return 'simulator';
      case 'gpsd': return `gpsd://${this.cfg.receiver.gpsd.host}:${this.cfg.receiver.gpsd.port}${this.cfg.receiver.gpsd.device ? '/' + this.cfg.receiver.gpsd.device : ''}`;
      default: return this.cfg.receiver.serial.device;
    }
  }

  get ppsDevice(): string {
    switch (this.ppsSource) {
      case 'kernel': return `${this.cfg.pps.sysfs_root}/${this.cfg.pps.device}`;
      case 'gpsd': return 'gpsd';
      case 'simulator': return 'simulator';
      default: return 'none';
    }
  }

  async start(): Promise<void> {
    const now = () => this.localClock.now();
    const log = this.opts.log;
    this.bus.emit({ type: 'agentStarted', at: now(), version: VERSION });
    for (const w of this.pendingWarnings) log.log(w.level ?? 'warn', w.msg, w.fields);
    if (this.leapTable === undefined && this.cfg.discipline.leap_seconds_file) {
      this.bus.emit({ type: 'leapTableProblem', at: now(), problem: 'no usable leap second table' });
    } else if (this.leapTable && isExpired(this.leapTable, now())) {
      this.bus.emit({ type: 'leapTableProblem', at: now(), problem: 'leap second table expired' });
    }
    if (this.simulator) {
      this.gnss.connectedTo('simulator', now());
      this.simulator.start();
    } else if (this.receiverSource === 'serial') {
      const sc = this.cfg.receiver.serial;
      this.serial = new SerialReceiver({ device: sc.device, baud: sc.baud, reopenMinMs: sc.reopen_min_ms, reopenMaxMs: sc.reopen_max_ms }, this.localClock, {
        bytes: (chunk, rx) => this.gnss.onBytes(chunk, rx),
        connected: (device, t) => {
          this.gnss.connectedTo(device, t);
          if (sc.configure_mtk) this.configureMtk();
        },
        disconnected: (reason, t) => this.gnss.disconnected(reason, t),
      });
      this.serial.start();
    } else if (this.receiverSource === 'gpsd') {
      this.startGpsd();
    }
    if (this.ppsSource === 'kernel') {
      this.kernelPps = new KernelPpsSource({
        root: this.cfg.pps.sysfs_root, device: this.cfg.pps.device, pollMs: this.cfg.pps.poll_ms, useClearEdge: this.cfg.pps.use_clear_edge,
      }, this.localClock, (e) => this.pps.onEdge(e, now()), (msg) => log.warn('kernel PPS read failed', { device: this.ppsDevice, error: msg }));
      this.kernelPps.start();
    } else if (this.ppsSource === 'gpsd' && !this.gpsd) {
      this.startGpsd();
    }
    const listen = this.opts.listen ?? !(this.opts.clock instanceof SimClock);
    if (this.ntpCore && listen) {
      this.ntpState.precisionLog2 = measurePrecisionLog2(() => this.disciplinedClock.now());
      this.refreshNtpState();
      const n = this.cfg.ntp;
      this.ntpUdp = new NtpUdpServer(this.ntpCore, this.disciplinedClock, () => this.ntpState, {
        addresses: n.addresses, port: n.port, recvBufferBytes: n.recv_buffer_bytes,
      });
      try {
        this.listening.push(...(await this.ntpUdp.listen()));
      } catch (e) {
        this.ntpUdp.close();
        throw new Error(`NTP: cannot listen on ${n.addresses.join(', ')} port ${n.port}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (this.cfg.snmp.enabled && listen) await this.startSnmp();
    if (this.cfg.ptp.enabled && listen) {
      try {
        this.ptp = new PtpGrandmaster(this.cfg, this.disciplinedClock, this.status(), (e) => this.bus.emit(e), (msg) => log.warn(msg));
        this.listening.push(...(await this.ptp.start()));
      } catch (e) {
        this.ptp?.close();
        throw new Error(`PTP: cannot serve on interface ${this.cfg.ptp.interface}: ${(e as Error).message}`, { cause: e });
      }
    }
    this.history?.start();
    this.influx?.start();
    this.alarmTimer = this.localClock.setInterval(() => this.everySecond(), 1000);
    this.ticker = this.localClock.setInterval(() => {
      const t = now();
      this.refreshNtpState();
      this.gnss.tick(t);
      this.pps.tick(t);
      this.discipline.setJitter(this.pps.snapshot(t).jitterNs);
      this.discipline.tick(t);
      const every = BigInt(this.cfg.discipline.save_every_s) * 1_000_000_000n;
      if (this.discipline.currentState === 'LOCKED' && (this.lastDriftSave === undefined || t - this.lastDriftSave >= every)) {
        this.saveFrequency();
      }
    }, 250);
    if (listen && this.cfg.prometheus.enabled) {
      this.metrics = new MetricsServer(() => exposition(this.status()));
      const p = this.cfg.prometheus;
      try {
        const a = await this.metrics.listen(p.address, p.port);
        this.listening.push({ service: 'prometheus-http', protocol: 'tcp', address: a.address, port: a.port });
      } catch (e) {
        throw new Error(`Prometheus: cannot listen on ${p.address} port ${p.port}: ${(e as Error).message}`, { cause: e });
      }
    }
    if (listen) {
      this.control = new ControlServer(() => this.status(), {
        'traps/test': () => (this.traps ? { sent: this.traps.sendByName('s1Test') ? ['s1Test'] : [] } : { error: 'SNMP is not enabled' }),
        'traps/resend': () => (this.traps ? { sent: this.traps.resendActive() } : { error: 'SNMP is not enabled' }),
      });
      const h = this.cfg.control.http;
      const a = await this.control.listen(h.address, h.port);
      this.listening.push({ service: 'control-http', protocol: 'tcp', address: a.address, port: a.port });
    }
  }

  /** Once a second, from one Status: the alarm rules, and a sample for the history. */
  private everySecond(): void {
    const st = this.status();
    this.evaluateAlarms(st);
    this.history?.sample(st);
    this.ptp?.update(st);
  }

  /** The alarm rules against Status; raises and clears become events. */
  evaluateAlarms(st: Status = this.status()): void {
    const t = this.localClock.now();
    const rules = this.alarms.rules;
    for (const c of this.alarms.evaluate(t, metricsFrom(st, readCpuTemperature(this.cfg.agent.cpu_temperature_file)))) {
      const index = rules.findIndex((r) => r.name === c.alarm.name) + 1;
      if (c.kind === 'raised') this.bus.emit({ type: 'alarmRaised', at: t, name: c.alarm.name, severity: c.alarm.severity, value: c.alarm.value, threshold: c.alarm.threshold, index });
      else this.bus.emit({ type: 'alarmCleared', at: t, name: c.alarm.name, severity: c.alarm.severity, value: c.value, index });
    }
  }

  /** What the NTP server says about itself, derived from the discipline a few times a second. */
  private refreshNtpState(): void {
    const now = this.localClock.now();
    const d = this.discipline.snapshot(now);
    const st = this.ntpState;
    st.leapIndicator = d.leapIndicator;
    st.stratum = d.stratum;
    st.refId = d.refId;
    st.rootDispersionS = d.rootDispersionS;
    st.refTime = d.lastUpdate !== undefined ? d.lastUpdate - BigInt(Math.round(this.discipline.correctionAt(d.lastUpdate))) : 0n;
    if (this.ntpCore) this.ntpRate.update(this.ntpCore.counters.received, Number(this.localClock.monotonic()) / 1e9);
  }

  /** The SNMPv3 engine ID: configured, or generated once and kept in the state directory. */
  snmpEngineId(): string {
    if (this.cfg.snmp.engine_id) return this.cfg.snmp.engine_id;
    const file = resolve(this.cfg.agent.state_dir, 'snmp-engine-id');
    if (existsSync(file)) {
      const v = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-fA-F]{10,64}$/.test(v)) return v;
    }
    // RFC 3411: enterprise 8072 (Net-SNMP's format, as net-snmp uses) and random octets.
    const id = `80001f8804${randomBytes(12).toString('hex')}`;
    mkdirSync(this.cfg.agent.state_dir, { recursive: true });
    writeFileSync(file, `${id}\n`);
    return id;
  }

  private v4Context(st: Status): V4Context {
    return {
      status: st, now: this.disciplinedClock.now(), heartbeatS: this.cfg.snmp.heartbeat_s,
      nextLeap: this.leapTable ? this.discipline.snapshot(this.localClock.now()).nextLeap?.at : undefined,
    };
  }

  private async startSnmp(): Promise<void> {
    const c = this.cfg.snmp;
    const system = { descr: c.description || `stratum1-agent ${VERSION}: GPS-disciplined time server (${this.cfg.agent.name})`, contact: c.contact, name: this.cfg.agent.name, location: c.location };
    if (c.mode === 'agentx') {
      this.agentx = new AgentxSubagent({ master: c.agentx_master, port: c.agentx_port, root: c.enterprise_oid, system }, this.localClock,
        () => this.status(), (st) => this.v4Context(st), (level, msg) => this.opts.log.log(level, msg));
      this.agentx.start();
      this.listening.push(this.agentx.endpoint);
      this.snmpTimer = this.localClock.setInterval(() => this.agentx?.refresh(), 1000);
    } else {
      this.snmp = new SnmpAgent({
        address: c.address, port: c.port, root: c.enterprise_oid, engineId: this.snmpEngineId(),
        communities: c.communities, v2cAllow: c.v2c_allow,
        users: c.users.map((u) => ({ name: u.name, auth: u.auth, authKey: u.auth_key, priv: u.priv, privKey: u.priv_key })),
        system, maxRequestBytes: c.max_request_bytes, maxRepetitions: c.max_repetitions,
      }, () => this.status(), (msg) => this.opts.log.warn(msg), (st) => this.v4Context(st));
      try {
        this.listening.push(await this.snmp.start());
      } catch (e) {
        await this.snmp.stop();
        throw new Error(`SNMP: cannot listen on ${c.address} port ${c.port}: ${(e as Error).message}`, { cause: e });
      }
      this.snmpTimer = this.localClock.setInterval(() => this.snmp?.refresh(), 1000);
    }
    const users = new Map(c.users.map((u) => [u.name, { name: u.name, auth: u.auth, authKey: u.auth_key, priv: u.priv, privKey: u.priv_key }]));
    this.traps = new TrapSender(c.enterprise_oid, this.snmpEngineId(), c.trap_sinks.map((t) => ({
      host: t.host, port: t.port, version: t.version, community: t.community, user: users.get(t.user), inform: t.inform,
      retries: t.retries, timeoutMs: t.timeout_ms,
    })), () => this.status(), (msg) => this.opts.log.warn(msg));
    this.traps.v4Context = (st) => this.v4Context(st);
    this.bus.onAny((e) => this.traps?.onEvent(e));
    if (c.heartbeat_s > 0) this.heartbeat = this.localClock.setInterval(() => this.traps?.heartbeat(), c.heartbeat_s * 1000);
  }

  private configureMtk(): void {
    const log = this.opts.log;
    const h = runMtkSetup((t) => this.serial?.write(t), (fn, ms) => this.localClock.setTimeout(fn, ms), (acked, failed) => {
      this.mtkAck = undefined;
      this.bus.emit({ type: 'receiverConfigured', at: this.localClock.now(), acked, failed: failed.map((f) => f.id) });
      if (failed.length) log.warn('MTK commands not acknowledged', { failed });
    });
    this.mtkAck = (c, f) => h.onAck(c, f);
  }

  private startGpsd(): void {
    const g = this.cfg.receiver.gpsd;
    const useFix = this.receiverSource === 'gpsd';
    const usePps = this.ppsSource === 'gpsd';
    this.gpsd = new GpsdClient({ host: g.host, port: g.port, device: g.device, reconnectMaxMs: g.reconnect_max_ms }, this.localClock, {
      connected: (where, t) => this.gnss.connectedTo(`gpsd ${where}`, t),
      disconnected: (reason, t) => this.gnss.disconnected(reason, t),
      bad: (error) => this.opts.log.warn('bad report from gpsd', { error }),
      message: (m, rx) => {
        if (m.class === 'TPV' && useFix) {
          this.gnss.noteData(rx);
          for (const o of this.gnss.receiver.applyFix(m.fix, rx)) this.gnss.handle(o, rx);
          this.gnss.checkLabel(rx);
          this.gnss.tick(rx);
        } else if (m.class === 'SKY' && useFix) {
          this.gnss.noteData(rx);
          this.gnss.receiver.applySky(m.satellites, rx, m);
        } else if (m.class === 'PPS' && usePps) {
          this.pps.onEdge({ assert: m.clock, sequence: ++this.gpsdPpsSeq, utcSecond: m.real }, rx);
        }
      },
    });
    this.gpsd.start();
  }

  status(): Status {
    const now = this.localClock.now();
    const info: AgentInfo = {
      name: this.cfg.agent.name, version: VERSION, pid: process.pid, startedAt: this.startedAt,
      receiverSource: this.receiverSource, ppsSource: this.ppsSource, receiverDevice: this.receiverDevice,
      ppsDevice: this.ppsDevice, simulated: this.receiverSource === 'simulator', listening: this.listening,
    };
    const ntp = this.ntpCore ? {
      counters: this.ntpCore.counters, requestsPerSecond: this.ntpRate.rate, distinctClients: this.ntpCore.distinct.estimate(),
      precisionLog2: this.ntpState.precisionLog2, sendErrors: this.ntpUdp?.sendErrors ?? 0,
      rxTimestamps: this.ntpUdp?.rxTimestamps ?? 'event loop',
    } : undefined;
    const snmp = this.snmp || this.agentx ? {
      requests: 0, droppedSource: 0, droppedSize: 0, errors: 0, ...this.snmp?.stats,
      agentxConnected: this.agentx?.connected ?? false, agentxSessions: this.agentx?.sessions ?? 0, trapsSent: this.traps?.stats.sent ?? 0, trapsAcknowledged: this.traps?.stats.acknowledged ?? 0,
      trapsFailed: this.traps?.stats.failed ?? 0, trapsByName: this.traps?.stats.byName ?? {},
    } : undefined;
    const active = new Map(this.alarms.active().map((a) => [a.name, a]));
    const alarms = this.alarms.rules.map((r, i) => {
      const a = active.get(r.name);
      return {
        index: i + 1, name: r.name, severity: a?.severity ?? 'none' as const, value: a?.value ?? null, threshold: a?.threshold ?? null,
        raisedAt: a ? toIso(a.raisedAt, 3) : null, description: r.description,
      };
    });
    return buildStatus(now, info, this.gnss.snapshot(now), this.pps.snapshot(now), this.discipline.snapshot(now), ntp, snmp,
      this.history?.snapshot() ?? STORE_DISABLED, this.influx?.snapshot((t) => toIso(t, 3)) ?? INFLUX_DISABLED,
      this.ptp?.snapshot() ?? PTP_DISABLED, alarms, {
      counts: this.bus.counts as Record<string, number>, recent: this.bus.recent(),
    });
  }

  async stop(reason = 'stopped'): Promise<void> {
    this.bus.emit({ type: 'agentStopping', at: this.localClock.now(), reason });
    this.saveFrequency(true);
    this.ticker?.cancel();
    this.alarmTimer?.cancel();
    this.simulator?.stop();
    this.serial?.stop();
    this.gpsd?.stop();
    this.kernelPps?.stop();
    this.ntpUdp?.close();
    this.ptp?.close();
    this.snmpTimer?.cancel();
    this.heartbeat?.cancel();
    this.traps?.close();
    this.agentx?.stop();
    await this.snmp?.stop();
    await this.control?.close();
    await this.metrics?.close();
    await this.influx?.stop();
    this.history?.stop();
  }
}
