/**
 * Without the native addon (STRATUM1_NO_NATIVE=1, as when it failed to build) the agent still serves
 * NTP, from dgram with event-loop timestamps, and says so in Status; with it, the kernel's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { ntpQuery } from '../helpers/ntp.ts';
import { kernelTs } from '../../src/net/kernel-ts.ts';
import { setTimeout as sleep } from 'node:timers/promises';


for (const native of [false, true]) {
  test(`NTP ${native ? 'with' : 'without'} the native addon: answered, and Status names the timestamp source`, async () => {
    if (native) assert.ok(kernelTs().available, `the native addon must be built by npm ci: ${kernelTs().problem}`);
    const dir = mkdtempSync(join(tmpdir(), 'ntp-fb-'));
    const port = await freeUdpPort();
    writeFileSync(join(dir, 'a.yaml'), agentConfig(dir, ['127.0.0.1'], port));
    const before = process.env.STRATUM1_NO_NATIVE;
    if (!native) process.env.STRATUM1_NO_NATIVE = '1';
    let a;
    try {
      a = await startAgent(join(dir, 'a.yaml'));
    } finally {
      if (before === undefined) delete process.env.STRATUM1_NO_NATIVE;
      else process.env.STRATUM1_NO_NATIVE = before;
    }
    try {
      const reply = await ntpQuery(port);
      assert.equal(reply.length, 48);
      assert.equal(reply[0]! & 7, 4, 'a server reply');
      await sleep(300); // Status is a snapshot rebuilt every 250 ms: read one taken after the reply
      const st = await a.status();
      assert.equal(st.ntp.rxTimestamps, native ? 'kernel' : 'event loop');
      assert.ok(st.ntp.replied >= 1);
    } finally {
      await a.stop();
    }
  });
}
