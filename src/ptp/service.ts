/**
 * The grandmaster as the running agent has it: the core and its transport, its clock quality taken
 * from Status once a second, its foreign-master reports as events, its state as a part of Status.
 */
import type { Config } from '../config/config.ts';
import type { Clock } from '../time/index.ts';
import type { Status, PtpStatus, Endpoint } from '../status/status.ts';
import type { AgentEvent } from '../status/events.ts';
import { GrandmasterCore, timePropertiesFrom } from './grandmaster.ts';
import { clockIdentityFromMac, identityHex } from './codec.ts';
import { PtpUdp, resolveInterface, EVENT_PORT, GENERAL_PORT } from './udp.ts';

export class PtpGrandmaster {
  readonly core: GrandmasterCore;
  private udp: PtpUdp;
  readonly address: string;

  constructor(private readonly cfg: Config, clock: Clock, status: Status, emit: (e: AgentEvent) => void, onError: (msg: string) => void) {
    const p = cfg.ptp;
    const iface = resolveInterface(p.interface);
    this.address = iface.address;
    this.core = new GrandmasterCore({
      clockIdentity: clockIdentityFromMac(iface.mac), domain: p.domain, priority1: p.priority1, priority2: p.priority2,
      logAnnounceInterval: p.log_announce_interval, logSyncInterval: p.log_sync_interval, logMinDelayReqInterval: p.log_min_delay_req_interval,
      announceReceiptTimeout: p.announce_receipt_timeout, managementPerSecond: p.management_per_second,
      maxForeignMasters: p.max_foreign_masters, delayRespPerSecond: p.delay_resp_per_second,
    }, this.props(status), (e) => {
      const at = clock.now();
      if (e.kind === 'betterMaster') emit({ type: 'ptpBetterMaster', at, identity: e.master.identity, priority1: e.master.priority1, clockClass: e.master.clockClass, domain: e.master.domain });
      else emit({ type: 'ptpBetterMasterGone', at, identity: e.identity });
    });
    this.udp = new PtpUdp(this.core, clock, () => this.core.properties.currentUtcOffset, { interfaceAddress: iface.address }, onError);
  }

  private props(st: Status) {
    return timePropertiesFrom(st, this.cfg.ptp.utc_offset_fallback);
  }

  async start(): Promise<Endpoint[]> {
    await this.udp.start();
    return [
      { service: 'ptp-event', protocol: 'udp', address: this.address, port: EVENT_PORT },
      { service: 'ptp-general', protocol: 'udp', address: this.address, port: GENERAL_PORT },
    ];
  }

  /** Once a second: the quality the next Announce carries. */
  update(st: Status): void {
    this.core.setProperties(this.props(st));
  }

  snapshot(): PtpStatus {
    const p = this.core.properties;
    const c = this.core.counters;
    const tx = this.udp.txSpread;
    return {
      enabled: true, interface: this.cfg.ptp.interface, address: this.address, clockIdentity: identityHex(this.core.o.clockIdentity),
      domain: this.core.o.domain, portState: 'MASTER', clockClass: p.quality.clockClass, clockAccuracy: p.quality.clockAccuracy,
      offsetScaledLogVariance: p.quality.offsetScaledLogVariance, currentUtcOffset: p.currentUtcOffset, utcOffsetValid: p.utcOffsetValid,
      timeTraceable: p.timeTraceable, frequencyTraceable: p.frequencyTraceable, timeSource: p.timeSource,
      sent: { ...c.sent }, received: { ...c.received }, malformed: { ...c.malformed }, otherDomain: c.otherDomain,
      managementDropped: c.managementDropped, delayReqDropped: c.delayReqDropped, foreignDropped: c.foreignDropped, ownGrandmaster: c.ownGrandmaster, sendErrors: this.udp.sendErrors,
      txStampSpreadNs: { mean: tx.n ? Math.round(tx.sumNs / tx.n) : null, max: tx.n ? tx.maxNs : null }, rxTimestamps: this.udp.rxTimestamps, syncsUnstamped: this.udp.txUnstamped,
      foreignMasters: [...this.core.foreign.values()].map((f) => ({ identity: f.identity, domain: f.domain, priority1: f.priority1, clockClass: f.clockClass, better: f.better, announces: f.announces })),
    };
  }

  close(): void {
    this.udp.close();
  }
}
