/**
 * systemd's notification protocol (sd_notify(3)), for the unit's Type=notify and WatchdogSec: one
 * datagram of KEY=VALUE lines to the AF_UNIX socket named by $NOTIFY_SOCKET. READY=1 once every part
 * listens, so `systemctl start` returns when NTP is really served and units ordered after ours start
 * then; WATCHDOG=1 from the event loop every half of $WATCHDOG_USEC, so a stuck loop (a time server
 * that answers nothing) is killed and restarted by systemd; STOPPING=1 at SIGTERM; STATUS= a line for
 * `systemctl status`. Node has no AF_UNIX datagrams: the native addon sends them. Without $NOTIFY_SOCKET
 * (not under systemd) this does nothing.
 */
import { addon, addonProblem } from '../native/addon.ts';

export interface NotifyEnv {
  [key: string]: string | undefined;
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

/** The watchdog period systemd asks for, in ms, if it asks this process: half of WATCHDOG_USEC. */
export function watchdogIntervalMs(env: NotifyEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** A STATUS= value on one line (the protocol is newline separated). */
export function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 200)}`;
}

export class SystemdNotifier {
  private fd = -1;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  /** Why notifications cannot be sent (said once, at start), or undefined when they can or none are wanted. */
  readonly problem: string | undefined;
  sent = 0;
  failed = 0;

  constructor(private readonly env: NotifyEnv = process.env) {
    const path = env.NOTIFY_SOCKET;
    if (!path) return;
    if (path.startsWith('@')) {
      this.problem = `NOTIFY_SOCKET ${path} is in the abstract namespace, which the agent cannot reach: systemd will not hear READY=1`;
    } else if (!addon) {
      this.problem = `cannot notify systemd (${addonProblem ?? 'no native addon'}): use Type=simple in the unit`;
    } else {
      const fd = addon.unixDgramOpen(path);
      if (fd < 0) this.problem = `cannot reach NOTIFY_SOCKET ${path} (errno ${-fd})`;
      else this.fd = fd;
    }
  }

  get active(): boolean {
    return this.fd >= 0;
  }

  send(...lines: string[]): boolean {
    if (this.fd < 0 || !addon) return false;
    const n = addon.unixDgramSend(this.fd, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
    if (n < 0) this.failed++;
    else this.sent++;
    return n >= 0;
  }

  /** READY=1 with a status line, then the watchdog pings if systemd asked for them. */
  ready(status: string, pid = process.pid): void {
    this.send('READY=1', statusLine(status), `MAINPID=${pid}`);
    const every = watchdogIntervalMs(this.env, pid);
    if (every !== undefined && this.active) {
      this.watchdog = setInterval(() => this.send('WATCHDOG=1'), every);
      this.watchdog.unref();
    }
  }

  stopping(why: string): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.send('STOPPING=1', statusLine(`stopping: ${why}`));
  }

  close(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.fd >= 0) addon?.unixDgramClose(this.fd);
    this.fd = -1;
  }
}
