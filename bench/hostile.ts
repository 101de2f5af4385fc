/**
 * Hostile-LAN benchmark: the real agent in one network namespace (the simulator, NTP, the PTP
 * grandmaster on the veth, SNMP v2c and v3, the history), floods from another (test/hostile/harness.ts,
 * the same set-up as test/hostile). Each flood goes as fast as one Node sender manages for SECONDS,
 * while a legitimate NTP client on its own address asks every 50 ms:
 *   PTP Announces from 5 000 identities better than us, PTP Delay_Reqs, PTP Management GETs, garbage at
 *   319/320, NTP requests and garbage from 34 sockets on 17 addresses, SNMP (wrong communities, big
 *   GETBULKs with a guessed community, v3 discovery, BER-looking garbage).
 * For each: datagrams sent, the agent's RSS before, at its peak (sampled every 100 ms) and 1 s after,
 * the client's loss, round trip median and p99, and the server's T3-T2 p99 (where the round trip went).
 * Then SNMP amplification: each request type sent alone with the right community (the worst case) and
 * the bytes that come back per byte sent.
 * Ends with ONE JSON line. `--quick` (the smoke test): 1.5 s floods.
 */
import { hostileLan, sleep, AGENT, ATTACKER, LEGIT, FLOODERS, NTP_PORT, SNMP_PORT, COMMUNITY } from '../test/hostile/harness.ts';
import type { AmpCase, ClientResult, FloodResult, FloodSpec } from '../test/hostile/flood.ts';

const quick = process.argv.includes('--quick');
const SECONDS = Number(process.env.HOSTILE_BENCH_SECONDS ?? (quick ? 1.5 : 8));
const ms = SECONDS * 1000;
const MB = (kb: number) => Math.round(kb / 102.4) / 10;

const floods: [string, FloodSpec][] = [
  ['PTP Announce, 5 000 better identities', { kind: 'ptp', what: 'announce', durationMs: ms, maxPackets: 5_000_000, bind: ATTACKER, target: AGENT, identities: 5000 }],
  ['PTP Delay_Req', { kind: 'ptp', what: 'delayreq', durationMs: ms, maxPackets: 5_000_000, bind: ATTACKER, target: AGENT, identities: 5000 }],
  ['PTP Management GET', { kind: 'ptp', what: 'management', durationMs: ms, maxPackets: 5_000_000, bind: ATTACKER, target: AGENT, identities: 5000 }],
  ['PTP garbage', { kind: 'ptp', what: 'garbage', durationMs: ms, maxPackets: 5_000_000, bind: ATTACKER, target: AGENT, identities: 5000 }],
  ['NTP requests and garbage', { kind: 'ntp-flood', durationMs: ms, maxPackets: 5_000_000, sources: [ATTACKER, ...FLOODERS], socketsPerSource: 2, target: AGENT, port: NTP_PORT }],
  ['SNMP mixed', { kind: 'snmp-flood', durationMs: ms, maxPackets: 5_000_000, sources: [ATTACKER, ...FLOODERS], target: AGENT, port: SNMP_PORT }],
];

const lan = await hostileLan('bh');
const out: Record<string, unknown> = { bench: 'hostile', quick, seconds: SECONDS };
try {
  const end = Date.now() + 40_000;
  while ((await lan.status()).discipline.state !== 'LOCKED') {
    if (Date.now() > end) throw new Error('the agent did not lock');
    await sleep(500);
  }
  await sleep(2000);
  const idle = await lan.inB<ClientResult>({ kind: 'ntp-client', durationMs: Math.min(ms, 3000), intervalMs: 50, bind: LEGIT, target: AGENT, port: NTP_PORT });
  console.log(`idle: NTP client loss ${idle.lossPct} %, round trip median ${idle.rttMs.median} ms, p99 ${idle.rttMs.p99} ms; RSS ${MB(lan.rssKb())} MB`);
  out.idleClient = { lossPct: idle.lossPct, rttMedianMs: idle.rttMs.median, rttP99Ms: idle.rttMs.p99 };
  const results: Record<string, unknown>[] = [];
  for (const [name, spec] of floods) {
    const events0 = lan.eventRows();
    const rssBefore = lan.rssKb();
    const w = lan.watchRss();
    const [f, c] = await Promise.all([
      lan.inB<FloodResult>(spec),
      lan.inB<ClientResult>({ kind: 'ntp-client', durationMs: ms, intervalMs: 50, bind: LEGIT, target: AGENT, port: NTP_PORT }),
    ]);
    await sleep(1000);
    const peak = w.stop();
    const rssAfter = lan.rssKb();
    await sleep(1200); // the history's flush
    const r = {
      flood: name, sent: f.sent, perSecond: Math.round(f.sent / (f.ms / 1000)), replies: f.received, replyBytes: f.receivedBytes, sentBytes: f.sentBytes,
      rssMb: { before: MB(rssBefore), peak: MB(peak), after: MB(rssAfter) }, historyEvents: lan.eventRows() - events0,
      client: { sent: c.sent, lossPct: c.lossPct, rttMedianMs: c.rttMs.median, rttP99Ms: c.rttMs.p99, serverT3T2P99Ms: c.residenceMs.p99 },
    };
    results.push(r);
    console.log(`${name}: ${f.sent} sent (${r.perSecond}/s), ${f.received} replies; RSS ${r.rssMb.before} / ${r.rssMb.peak} / ${r.rssMb.after} MB; ` +
      `history +${r.historyEvents} events; client loss ${c.lossPct} %, rtt median ${c.rttMs.median} ms, p99 ${c.rttMs.p99} ms (server T3-T2 p99 ${c.residenceMs.p99} ms)`);
    await sleep(1000);
  }
  out.floods = results;
  const st = await lan.status();
  out.status = { ptp: { foreignMasters: st.ptp.foreignMasters.length, foreignDropped: st.ptp.foreignDropped, delayReqDropped: st.ptp.delayReqDropped, managementDropped: st.ptp.managementDropped, sent: st.ptp.sent }, snmp: st.snmp, events: st.events.counts };
  await sleep(quick ? 1000 : 5000); // let any per-source SNMP limit forget the floods
  const amp = await lan.inB<AmpCase[]>({ kind: 'snmp-amp', bind: LEGIT, target: AGENT, port: SNMP_PORT, community: COMMUNITY });
  for (const a of amp) console.log(`SNMP ${a.type} (${a.what}): ${a.requestBytes} bytes -> ${a.replies} replies, ${a.replyBytes} bytes: x${a.ratio}`);
  const worst: Record<string, AmpCase> = {};
  for (const a of amp) if (!worst[a.type] || a.ratio > worst[a.type]!.ratio) worst[a.type] = a;
  out.amplification = { cases: amp, worstByType: Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, { what: v.what, ratio: v.ratio }])), worst: Math.max(...amp.map((a) => a.ratio)) };
  const get = lan.snmpget(LEGIT);
  out.snmpgetAfter = get.ok;
  out.rssEndMb = MB(lan.rssKb());
  console.log(`v3 snmpget after everything: ${get.ok ? 'ok' : get.out}; RSS at the end ${out.rssEndMb} MB`);
} finally {
  await lan.close();
}
console.log(JSON.stringify(out));
