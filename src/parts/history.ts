/** Store: the history in SQLite (a sample a second, every event, rollups and upkeep). */
import { History } from '../store/history.ts';
import type { Part, PartFactory } from './part.ts';

export interface HistoryPart extends Part {
  readonly history: History;
}

export const historyStore: PartFactory = {
  name: 'history',
  wanted: (cfg) => cfg.store.enabled,
  create(ctx): HistoryPart {
    const history = new History(ctx.cfg, ctx.timing.served, ctx.bus, (level, msg, fields) => ctx.log.log(level, msg, fields));
    return {
      name: 'history',
      history,
      start: () => history.start(),
      stop: () => history.stop(),
      everySecond: (st) => history.sample(st),
      publish: () => ({ store: history.snapshot() }),
    };
  },
};
