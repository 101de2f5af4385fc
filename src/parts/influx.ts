/** Exporter: InfluxDB (1.x), with a durable queue while it is down. */
import { resolve } from 'node:path';
import { InfluxExporter } from '../export/influx.ts';
import { toIso } from '../time/index.ts';
import type { PartFactory } from './part.ts';

export const influxExport: PartFactory = {
  name: 'influx',
  wanted: (cfg) => cfg.influx.enabled,
  create(ctx) {
    const x = ctx.cfg.influx;
    const exporter = new InfluxExporter({
      url: x.url, database: x.database, retentionPolicy: x.retention_policy, username: x.username, password: x.password,
      createDatabase: x.create_database, intervalS: x.interval_s, batchPoints: x.batch_points, timeoutMs: x.timeout_ms,
      tags: { host: x.host_tag || ctx.cfg.agent.name, source: ctx.sources.receiver },
      queue: { path: resolve(ctx.cfg.agent.state_dir, x.queue_file), maxPoints: x.queue_max_points, maxAgeS: x.queue_max_age_s },
    }, ctx.timing.served, () => ctx.status(), (level, msg, fields) => ctx.log.log(level, msg, fields));
    return {
      name: 'influx',
      start: () => exporter.start(),
      stop: () => exporter.stop(),
      onEvent: (e) => exporter.onEvent(e),
      publish: () => ({ influx: exporter.snapshot((t) => toIso(t, 3)) }),
    };
  },
};
