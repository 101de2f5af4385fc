/** One NTP client request (version 4, mode 3) to 127.0.0.1:port; resolves with the reply. */
import { createSocket } from 'node:dgram';

export function ntpQuery(port: number, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    const req = Buffer.alloc(48);
    req[0] = 0x23; // LI 0, version 4, mode 3 (client)
    const timer = setTimeout(() => { s.close(); rej(new Error('no NTP reply')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(timer); s.close(); res(m); });
    s.send(req, port, '127.0.0.1');
  });
}

/** The stratum of the reply to one request. */
export const ntpStratum = async (port: number): Promise<number> => (await ntpQuery(port))[1]!;
