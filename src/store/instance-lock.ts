import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { sqlNowMs } from "./db-clock.js";
import { InstanceLockHeldError, InstanceLockLostError } from "./errors.js";
import type { Store } from "./open-store.js";

/** A lock expires this long after its holder's last heartbeat (TESTING.md C9). */
export const LOCK_TTL_MS = 30_000;

/** One value per process run: a restarted process never mistakes an old lock for its own. */
const PROCESS_OWNER = randomBytes(12).toString("hex");

export type AcquireInstanceLockParameters = {
  /** Lock name, e.g. `chain:btc`. */
  name: string;
  /** Expiry after the last heartbeat; default 30 s. Heartbeats run every ttl/3. */
  ttlMs?: number;
  /** Called once when the lock is found taken over or deleted (the holder must stop writing). */
  onLost?: (err: InstanceLockLostError) => void;
  /** Owner token; default one per process. Tests use two owners in one process. */
  owner?: string;
};

export type InstanceLock = {
  name: string;
  owner: string;
  /** Stops heartbeats and deletes the lock if still ours. */
  release(): Promise<void>;
};

/** The database's clock in unix ms: processes on machines with skewed clocks agree on expiry. */
const nowMs = sqlNowMs;

/** True when `pid` is certainly not a running process on this machine (ESRCH); EPERM means it runs. */
function processIsGone(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Takes the named instance lock in the store, or fails. A lock is free when nobody holds it, when its
 * holder's heartbeat is older than the ttl (a crashed holder on any machine), or, on SQLite (one
 * machine by nature), when its holder process on this host no longer exists (a `kill -9`: the restart
 * need not wait out the ttl). The take-over is one conditional upsert, so two contenders never both win.
 * While held, a heartbeat every ttl/3 renews it; finding the lock taken over calls `onLost`.
 * @throws InstanceLockHeldError naming the holder (pid, host, heartbeat age)
 */
export async function acquireInstanceLock(store: Store, p: AcquireInstanceLockParameters): Promise<InstanceLock> {
  const ttl = p.ttlMs ?? LOCK_TTL_MS;
  const owner = p.owner ?? PROCESS_OWNER;
  const host = hostname();
  const now = nowMs(store.dialect);
  // SQLite: through the store's transaction queue, never inside another caller's open transaction.
  const exec = (sql: string, params: unknown[]) => (store.dialect === "sqlite" ? store.tx(() => store.raw(sql, params)) : store.raw(sql, params));

  const [holder] = await exec(`SELECT owner, pid, host, ${now} - heartbeat_at_ms AS age_ms FROM instance_locks WHERE name = ?`, [p.name]);
  // The dead-holder shortcut: only for SQLite (a local file) and a holder recorded on this host.
  const deadOwner = holder && store.dialect === "sqlite" && holder.host === host && holder.owner !== owner && processIsGone(Number(holder.pid)) ? String(holder.owner) : "";

  const won = await exec(
    `INSERT INTO instance_locks (name, owner, pid, host, acquired_at_ms, heartbeat_at_ms) VALUES (?, ?, ?, ?, ${now}, ${now})
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
       acquired_at_ms = excluded.acquired_at_ms, heartbeat_at_ms = excluded.heartbeat_at_ms
     WHERE instance_locks.owner = excluded.owner OR instance_locks.heartbeat_at_ms < ${now} - ? OR instance_locks.owner = ?
     RETURNING owner`,
    [p.name, owner, process.pid, host, ttl, deadOwner],
  );
  if (won.length === 0) {
    const [h] = await exec(`SELECT pid, host, ${now} - heartbeat_at_ms AS age_ms FROM instance_locks WHERE name = ?`, [p.name]);
    throw new InstanceLockHeldError({ name: p.name, pid: Number(h?.pid ?? 0), host: String(h?.host ?? "?"), heartbeatAgeMs: Number(h?.age_ms ?? 0), ttlMs: ttl });
  }

  let lost = false;
  let beating: Promise<void> = Promise.resolve();
  const beat = async () => {
    let rows: Record<string, unknown>[];
    try {
      rows = await exec(`UPDATE instance_locks SET heartbeat_at_ms = ${now} WHERE name = ? AND owner = ? RETURNING owner`, [p.name, owner]);
    } catch {
      return; // store busy or unreachable: try again next beat; the ttl covers a few missed beats
    }
    if (rows.length === 0 && !lost) {
      lost = true;
      clearInterval(timer);
      p.onLost?.(new InstanceLockLostError({ name: p.name }));
    }
  };
  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, Math.max(1, Math.floor(ttl / 3)));
  timer.unref();

  return {
    name: p.name,
    owner,
    async release() {
      clearInterval(timer);
      await beating;
      if (!lost) await exec("DELETE FROM instance_locks WHERE name = ? AND owner = ?", [p.name, owner]).catch(() => undefined);
    },
  };
}

/** A held (or stale) instance lock as `backstop status` shows it. */
export type InstanceLockInfo = { name: string; pid: number; host: string; heartbeatAgeMs: number; stale: boolean };

/** Every instance lock row, with its heartbeat age on the database's clock; `stale` once older than the ttl. */
export async function loadInstanceLocks(store: Store, p: { ttlMs?: number } = {}): Promise<InstanceLockInfo[]> {
  const ttl = p.ttlMs ?? LOCK_TTL_MS;
  const rows = await store.raw(`SELECT name, pid, host, ${nowMs(store.dialect)} - heartbeat_at_ms AS age_ms FROM instance_locks ORDER BY name`);
  return rows.map((r) => {
    const age = Math.max(0, Number(r.age_ms));
    return { name: String(r.name), pid: Number(r.pid), host: String(r.host), heartbeatAgeMs: age, stale: age > ttl };
  });
}
