/** Every fuzz target, by name. */
import type { Target } from '../engine.ts';
import { nmeaFramer, nmeaParser, mtk, gpsdJson } from './gnss.ts';
import { ntpPacket, ntpServer, ntpClient } from './ntp.ts';
import { ptpCodec, ptpGrandmaster } from './ptp.ts';
import { snmpAgent } from './snmp.ts';
import { config } from './config.ts';
import { chronyReply } from './chrony.ts';
import { ntsKeRecords, ntsNtp } from './nts.ts';
import { ptp4lResponse } from './ptp4l.ts';

export const TARGETS: readonly Target[] = [nmeaFramer, nmeaParser, mtk, gpsdJson, ntpPacket, ntpServer, ntpClient, ptpCodec, ptpGrandmaster, snmpAgent, config, chronyReply, ntsKeRecords, ntsNtp, ptp4lResponse];

export function target(name: string): Target {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}" (targets: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
