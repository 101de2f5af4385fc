/** Servers: the control endpoint (GET /status, /health, the parts' views and streams; POST actions) and the Prometheus /metrics endpoint. */
import { ControlServer } from '../control/http.ts';
import { RecentRing } from '../control/recent.ts';
import { MetricsServer } from '../export/metrics-http.ts';
import { exposition } from '../export/prometheus.ts';
import { ProcessMetrics } from '../export/process-metrics.ts';
import type { PartFactory } from './part.ts';

export const metricsHttp: PartFactory = {
  name: 'metrics-http',
  wanted: (cfg) => cfg.prometheus.enabled,
  create(ctx) {
    const proc = new ProcessMetrics(() => ctx.status().agent.startedAtUnixS);
    const server = new MetricsServer(() => {
      const st = ctx.status();
      return exposition(st, proc.families());
    });
    return {
      name: 'metrics-http',
      async start() {
        if (!ctx.listen) return;
        proc.start();
        const p = ctx.cfg.prometheus;
        try {
          const a = await server.listen(p.address, p.port);
          ctx.listening({ service: 'prometheus-http', protocol: 'tcp', address: a.address, port: a.port });
        } catch (e) {
          throw new Error(`Prometheus: cannot listen on ${p.address} port ${p.port}: ${(e as Error).message}`, { cause: e });
        }
      },
      stop: () => {
        proc.stop();
        return server.close();
      },
    };
  },
};

/** The control endpoint; its POST actions are the other parts' (sending a test trap, ...). It keeps the
 * live page's last ten minutes (one point a second, bounded) from each second's Status. */
export const controlHttp: PartFactory = {
  name: 'control-http',
  wanted: () => true,
  create(ctx) {
    let server: ControlServer | undefined;
    const recent = new RecentRing();
    return {
      name: 'control-http',
      everySecond: (st) => recent.add(st),
      async start() {
        if (!ctx.listen) return;
        server = new ControlServer(() => ctx.status(), ctx.actions(), ctx.views(), () => recent.list(), ctx.streams());
        const h = ctx.cfg.control.http;
        const a = await server.listen(h.address, h.port);
        ctx.listening({ service: 'control-http', protocol: 'tcp', address: a.address, port: a.port });
      },
      stop: () => server?.close(),
    };
  },
};
