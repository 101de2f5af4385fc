/**
 * The registry: every part the agent can run, one line each, in start order (stopped in reverse).
 * The store comes first, so it records what the others say while they start and stop; the sources
 * before the servers; the endpoints last, once there is something to show.
 */
import type { PartFactory } from './part.ts';
import { historyStore } from './history.ts';
import { influxExport } from './influx.ts';
import { eventLog } from './event-log.ts';
import { simulatorSource } from './simulator.ts';
import { serialSource } from './serial.ts';
import { gpsdSource } from './gpsd.ts';
import { kernelPps } from './kernel-pps.ts';
import { ntpServer } from './ntp.ts';
import { snmpAgent } from './snmp.ts';
import { ptpGrandmaster } from './ptp.ts';
import { alarms } from './alarms.ts';
import { host } from './host.ts';
import { integrity } from './integrity.ts';
import { chronySock } from './chrony-sock.ts';
import { partnerChrony } from './partner-chrony.ts';
import { partnerPtp4l } from './partner-ptp4l.ts';
import { nmeaStream } from './nmea-stream.ts';
import { metricsHttp, controlHttp } from './http.ts';

export const PARTS: readonly PartFactory[] = [
  historyStore,
  influxExport,
  eventLog,
  simulatorSource,
  serialSource,
  gpsdSource,
  kernelPps,
  host,
  integrity,
  ntpServer,
  snmpAgent,
  ptpGrandmaster,
  chronySock,
  partnerChrony,
  partnerPtp4l,
  alarms,
  nmeaStream,
  metricsHttp,
  controlHttp,
];
