/**
 * The records and settings the store's modules share. They live here, apart from store.ts (the
 * writer) and query.ts (the reader), so that neither has to import the other for a type: store.ts
 * uses query.ts, and nothing in query.ts needs the writer.
 */

/** One event as it is kept: its time (Unix nanoseconds), its type, and the rest of its fields. */
export interface StoredEvent {
  tNs: bigint;
  type: string;
  data: Record<string, unknown>;
}

/** How long each table is kept, in days. */
export interface Retention {
  samplesDays: number;
  minuteDays: number;
  hourDays: number;
  eventsDays: number;
}
