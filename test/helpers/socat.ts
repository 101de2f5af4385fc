/** A pty pair from socat: `device` is what the agent opens as its serial port, `feed` the far end a
 * test writes NMEA into (and reads the agent's commands from). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  device: string;
  feed: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function ptyPair(dir: string, baud = 9600): Promise<PtyPair> {
  const device = join(dir, 'gps');
  const feed = join(dir, 'feed');
  const proc = spawn('socat', [`pty,raw,echo=0,link=${device},b${baud}`, `pty,raw,echo=0,link=${feed},b${baud}`], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  while (!(existsSync(device) && existsSync(feed))) {
    if (Date.now() > deadline) throw new Error('socat did not create the pty pair');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    device, feed, proc,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}
