// The store's long jobs, on a connection of their own in a worker thread so the event loop (and the
// time it serves) never waits on them: the integrity check and the online backup (SQLite's backup
// API, which copies a consistent snapshot while the agent goes on writing). The connection is
// read-only: neither job changes the database, and a read-only connection never checkpoints the WAL
// into it, not even when it is the last to close (after the agent's own, at a stop).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { job, path, dest } = workerData;
let db;
try {
  db = new Database(path, { readonly: true, fileMustExist: true });
  if (job === 'integrity') {
    const rows = db.pragma('integrity_check').map((r) => r.integrity_check);
    parentPort.postMessage({ ok: rows.length === 1 && rows[0] === 'ok', detail: rows.slice(0, 5).join('; ') });
  } else if (job === 'backup') {
    const r = await db.backup(dest);
    parentPort.postMessage({ ok: true, detail: `${r.totalPages} pages to ${dest}` });
  } else {
    parentPort.postMessage({ ok: false, detail: `unknown job ${job}` });
  }
} catch (e) {
  parentPort.postMessage({ ok: false, detail: `${e.code ? e.code + ': ' : ''}${e.message}` });
} finally {
  db?.close();
}
