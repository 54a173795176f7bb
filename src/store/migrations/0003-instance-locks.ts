import type { Migration } from "./types.js";

/**
 * Instance locks (TESTING.md C9): one row per lock name (`chain:<key>`), held by the process whose
 * `owner` (random per process run) it carries. Times are the database's clock in unix milliseconds,
 * so processes on machines with skewed clocks agree on expiry.
 */
export const migration0003: Migration = {
  id: 3,
  name: "instance-locks",
  sqlite: [
    `CREATE TABLE instance_locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
      acquired_at_ms INTEGER NOT NULL, heartbeat_at_ms INTEGER NOT NULL)`,
  ],
  postgres: [
    `CREATE TABLE instance_locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
      acquired_at_ms BIGINT NOT NULL, heartbeat_at_ms BIGINT NOT NULL)`,
  ],
};
