/**
 * Integrity: can the receiver be believed? Two kinds of evidence, one part.
 *
 * - Upstream servers (integrity.ntp_servers, and the simulator's when it runs): polled by our own NTP
 *   client; Marzullo's intersection finds the majority, which is handed to the discipline's gate. The
 *   gate refuses a receiver outside the majority (the 'upstream' check) and, with accept_jump:
 *   with_upstream, believes a jump once the majority agrees with it.
 * - GNSS plausibility (pure core in integrity/plausibility.ts): position fence, C/N0 collapse, a
 *   sudden drop in satellites used, labels against the PPS count, leap seconds against the table.
 *
 * Each check is an event (integrityCheckFailed / Passed), an alarm rule, a notification and a row of
 * Status's integrity section. Polling runs on the once-a-second step, so it follows virtual time.
 */
import { randomBytes } from 'node:crypto';
import { UpstreamPeer } from '../integrity/ntp-client.ts';
import { selectMajority, serverState, type Selection } from '../integrity/select.ts';
import { UdpUpstream, type UpstreamTransport } from '../integrity/upstream-udp.ts';
import { Plausibility, type PlausibilitySnapshot } from '../integrity/plausibility.ts';
import { SimulatedUpstream } from '../sim/ntp-servers.ts';
import { parseUpstream } from '../config/config.ts';
import { INTEGRITY_CHECKS, type IntegrityCheck } from '../status/events.ts';
import type { IntegrityCheckStatus, IntegrityStatus, UpstreamServerStatus } from '../status/status.ts';
import type { Nanos } from '../time/index.ts';
import type { Part, PartFactory } from './part.ts';

const UNITS: Record<IntegrityCheck, string> = {
  upstream: 's', position: 'm', jamming: 'dB', satellites: 'satellites', pps_count: 's', leap: 's',
};

const log2 = (s: number) => Math.round(Math.log2(s));
const secs = (ns: number | undefined) => (ns === undefined ? null : ns / 1e9);
const unixS = (t: Nanos | undefined) => (t === undefined ? null : Number(t / 1000n) / 1e6);

export interface IntegrityPart extends Part {
  readonly selection: () => Selection;
}

export const integrity: PartFactory = {
  name: 'integrity',
  wanted: () => true,
  create(ctx): IntegrityPart {
    const ic = ctx.cfg.integrity;
    const { discipline, served, leapTable, gnss } = ctx.timing;
    const random64 = () => randomBytes(8).readBigUInt64BE();
    const real = ic.ntp_servers.map((name) => ({ name, ...parseUpstream(name) }));
    const simulated = ctx.sources.receiver === 'simulator' ? ctx.cfg.simulator.ntp_servers : [];
    const names = [...real.map((r) => r.name), ...simulated.map((_, i) => `sim${i + 1}`)];
    const opts = { minPollLog2: log2(ic.min_poll_s), maxPollLog2: Math.max(log2(ic.min_poll_s), log2(ic.max_poll_s)), iburst: ic.iburst };
    const peers = names.map((name) => new UpstreamPeer({ name, ...opts }, random64));
    const transports: { t: UpstreamTransport; first: number }[] = [];
    let selection: Selection = selectMajority([], peers.length);

    const plaus = new Plausibility({
      positionFenceM: ic.position_fence_m, positionLearnS: ic.position_learn_s, cn0DropDb: ic.cn0_drop_db,
      satellitesDropRatio: ic.satellites_drop_ratio, ppsCountAfter: ic.pps_count_after,
    }, leapTable, (e) => ctx.bus.emit(e));
    let lastSkyAt: Nanos | undefined;
    const unobserve = ctx.timing.observe({
      output: (o, rx) => {
        if (o.kind === 'epoch') plaus.onEpoch(o.epoch, rx);
      },
      edge: (e) => plaus.onEdge(e.assert),
      label: (utc, leap, fixValid, rx) => plaus.onLabel(utc, leap, fixValid, rx),
    });

    const reselect = (now: Nanos) => {
      const cands = [];
      for (const p of peers) {
        const s = p.snapshot(now);
        if (s.fit) cands.push({ name: s.name, offsetNs: s.offsetNs!, rootDistanceNs: s.rootDistanceNs! });
      }
      selection = selectMajority(cands, peers.length);
      const m = selection.majority;
      discipline.setUpstream(m && { lowNs: m.lowNs, highNs: m.highNs, members: m.members.length });
    };

    const publishIntegrity = (now: Nanos): IntegrityStatus => {
      const d = discipline.snapshot(now);
      const ps: PlausibilitySnapshot = plaus.snapshot(now);
      // The peers keep their times on the served clock (the one their offsets are measured against).
      const servedNow = served.now();
      const servers: UpstreamServerStatus[] = peers.map((p) => {
        const s = p.snapshot(servedNow);
        return {
          name: s.name, state: serverState(s, selection), reach: s.reach, pollS: s.pollS, stratum: s.stratum ?? null, refId: s.refId ?? null,
          offsetS: secs(s.offsetNs), delayS: secs(s.delayNs), jitterS: secs(s.jitterNs), rootDistanceS: secs(s.rootDistanceNs),
          lastSampleAgeS: s.lastSampleAgeS ?? null, sent: s.counters.sent, received: s.counters.received,
        };
      });
      const u = d.upstream;
      const checks: IntegrityCheckStatus[] = INTEGRITY_CHECKS.map((name) => {
        if (name === 'upstream') {
          return {
            name, enabled: peers.length > 0, armed: u !== undefined, failing: u?.falseticker ?? false,
            sinceUnixS: unixS(u?.since), failures: d.falsetickerEpisodes,
            value: u?.receiverMinusMajorityNs === undefined ? null : u.receiverMinusMajorityNs / 1e9,
            threshold: ic.upstream_threshold_ms / 1000, units: UNITS[name],
            detail: !peers.length ? 'no upstream servers configured' : !u ? `no majority (${selection.required} of ${peers.length} must agree)` :
              u.falseticker ? 'the receiver is outside the upstream majority: refused' : `the receiver agrees with ${u.members} upstream servers`,
          };
        }
        const c = ps.checks[name];
        return {
          name, enabled: checkEnabled(name), armed: c.armed, failing: c.failing, sinceUnixS: unixS(c.since), failures: c.failures,
          value: c.value ?? null, threshold: c.threshold, units: UNITS[name], detail: c.detail,
        };
      });
      const m = selection.majority;
      return {
        acceptJump: ic.accept_jump,
        upstream: {
          configured: peers.length, required: selection.required,
          majority: m ? { lowS: m.lowNs / 1e9, highS: m.highNs / 1e9, offsetS: m.offsetNs / 1e9, members: m.members } : null,
          receiverMinusMajorityS: u?.receiverMinusMajorityNs === undefined ? null : u.receiverMinusMajorityNs / 1e9,
          falsetickers: selection.falsetickers, servers,
        },
        checks,
        position: ps.referencePosition ? {
          latitudeDeg: ps.referencePosition.lat, longitudeDeg: ps.referencePosition.lon, altitudeM: ps.referencePosition.altM,
          samples: ps.referencePosition.samples, distanceM: ps.positionDistanceM ?? null,
        } : null,
        cn0MeanDbHz: ps.cn0MeanDb ?? null, cn0BaselineDbHz: ps.cn0BaselineDb ?? null, satellitesBaseline: ps.satellitesBaseline ?? null,
        labelPpsOffsetS: ps.labelPpsOffsetS ?? null,
        failing: checks.some((c) => c.failing),
      };
    };
    const checkEnabled = (name: IntegrityCheck) => {
      switch (name) {
        case 'position': return ic.position_fence_m > 0;
        case 'jamming': return ic.cn0_drop_db > 0;
        case 'satellites': return ic.satellites_drop_ratio > 0;
        case 'leap': return leapTable !== undefined;
        default: return true;
      }
    };

    return {
      name: 'integrity',
      selection: () => selection,
      start() {
        // A datagram from an address and port several servers share goes to the one whose request it
        // answers (the echoed cookie); one none of them expects is counted by the first as unexpected.
        const deliver = (offset: number) => (candidates: number[], pkt: Buffer, rx: Nanos) => {
          const ps = candidates.map((i) => peers[offset + i]).filter((p) => p !== undefined);
          const p = ps.find((x) => x.answers(pkt)) ?? ps[0];
          if (p && p.onReply(pkt, rx).ok) reselect(rx);
        };
        if (real.length && ctx.listen) transports.push({ t: new UdpUpstream(real, served, deliver(0)), first: 0 });
        if (simulated.length) {
          transports.push({ t: new SimulatedUpstream(simulated, ctx.trueClock, served, deliver(real.length), ctx.cfg.simulator.seed, ctx.cfg.simulator.faults), first: real.length });
        }
      },
      stop() {
        unobserve();
        for (const { t } of transports) t.close();
      },
      everySecond() {
        const now = served.now();
        peers.forEach((p, i) => {
          const tr = transports.find((t, k) => i >= t.first && (k + 1 >= transports.length || i < transports[k + 1]!.first));
          if (!tr || !p.due(now)) return;
          tr.t.send(i - tr.first, p.request(now));
        });
        reselect(now);
        const local = ctx.clock.now();
        const st = gnss.receiver.state;
        if (st.lastSkyAt !== undefined && st.lastSkyAt !== lastSkyAt) {
          lastSkyAt = st.lastSkyAt;
          plaus.onSky(st.satellites, st.lastSkyAt);
        }
        plaus.tick(local);
      },
      onEvent(e) {
        // The served clock moves the other way when the correction steps: keep upstream offsets current.
        if (e.type === 'clockStepped') {
          for (const p of peers) p.servedClockStepped(-e.stepNs);
          plaus.acceptLabels(e.at); // the clock now follows the labels as they are
        }
      },
      publish(now) {
        return { integrity: publishIntegrity(now) };
      },
    };
  },
};
