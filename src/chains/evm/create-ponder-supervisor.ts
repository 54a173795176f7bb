import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildChildEnv } from "../../lib/build-child-env.js";
import type { Logger } from "../../lib/logger.js";
import { redact } from "../../lib/logger.js";
import { PonderStartError } from "./errors.js";
import { PONDER_PLAN_ENV, type PonderPlan } from "./ponder-plan.js";

/** libpq's connection variables, which node-postgres reads when DATABASE_URL leaves them out. */
const PG_CONNECTION_ENV = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY"];

/** The repo root: where ponder.config.ts, ponder.schema.ts and src/ live. */
export const PONDER_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type PonderSupervisor = {
  /** Starts Ponder (killing a stale child left by a crashed Backstop) and keeps it running. */
  start(): Promise<void>;
  /** Base URL of Ponder's HTTP server, e.g. `http://127.0.0.1:41000`. */
  baseUrl(): string;
  /** PID of the running Ponder process, if any (tests kill -9 it). */
  pid(): number | undefined;
  /** Throws the terminal PonderStartError once Ponder has failed too often to be restarted. */
  check(): void;
  /** The last lines of Ponder's output (redacted), for errors the operator sees. */
  logTail(): string[];
  /** Stops Ponder and stops restarting it. */
  stop(): Promise<void>;
};

export type CreatePonderSupervisorParameters = {
  /** Chain key(s) this Ponder indexes, for messages. */
  chain: string;
  /** State directory: plan file, pid file, PGlite database (`pglite/`). */
  dir: string;
  plan: PonderPlan;
  /** Environment variables carrying RPC URLs (names from the plan). Never written to disk. */
  rpcEnv: Record<string, string>;
  /** Postgres instead of PGlite: Ponder gets DATABASE_URL and a schema of its own. */
  databaseUrl?: string;
  logger: Logger;
  /** Consecutive error exits (each within 2 min of its start) before giving up. Default 4. */
  maxFailedStarts?: number;
  /** Extra Node.js options for the Ponder process, before its script (the benchmark's `--cpu-prof`). */
  nodeArgs?: readonly string[];
};

/** Finds a free loopback TCP port (listen on 0, close). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Writes the Ponder app root Backstop runs (`ponder --root <dir>/app`): four one-line shims importing
 * the real files in the repo (ponder.config.ts, ponder.schema.ts, src/chains/evm/ponder/handlers.ts,
 * src/api/index.ts). Why: Ponder 0.16 executes every file matching `<root>/src/**` (js, mjs, ts, mts)
 * except src/api as indexing code (build/index.js, `indexingDir` = `<root>/src`, not configurable),
 * so run from the repo root it would import all of Backstop (CLI, store, other chains) and fail on any
 * module that does not load in 10 s. Returns the app directory.
 */
export function writePonderAppRoot(dir: string, root = PONDER_ROOT): string {
  const app = path.join(dir, "app");
  mkdirSync(path.join(app, "src", "api"), { recursive: true });
  const abs = (f: string) => JSON.stringify(path.join(root, f));
  const files: Record<string, string> = {
    "ponder.config.ts": `export { default } from ${abs("ponder.config.ts")};\n`,
    "ponder.schema.ts": `export * from ${abs("ponder.schema.ts")};\n`,
    "src/index.ts": `import ${abs("src/chains/evm/ponder/handlers.ts")};\n`,
    "src/api/index.ts": `export { default } from ${abs("src/api/index.ts")};\n`,
  };
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(app, f), text);
  // Ponder's virtual modules import viem, resolved from the app root: give it the repo's node_modules.
  const modules = path.join(path.dirname(path.dirname(path.dirname(path.dirname(path.dirname(resolvePonderBin(root)))))));
  const link = path.join(app, "node_modules");
  if (!existsSync(link)) symlinkSync(modules, link, "dir");
  return app;
}

/**
 * Ponder's database schema name for this plan and code: a hash of the plan and of every file Ponder
 * the indexing code imports. Ponder refuses (`ponder start`) to reuse a schema written by another build,
 * so a changed plan or a Backstop upgrade indexes into a fresh schema (RPC data comes from ponder_sync's cache).
 */
export function computePonderSchema(plan: PonderPlan, root = PONDER_ROOT): string {
  // Not the balance reader: it is the start-up probe's choice (the provider's), and both read the same numbers.
  const h = createHash("sha256").update(JSON.stringify({ ...plan, pgliteDir: undefined, chains: plan.chains.map((c) => ({ ...c, balanceReader: undefined })) }));
  const files = ["ponder.config.ts", "ponder.schema.ts"];
  for (const d of ["src/chains/evm", "src/api", "abis"]) {
    for (const f of readdirSync(path.join(root, d), { recursive: true }) as string[]) {
      if (/\.(ts|mts|js|mjs)$/.test(f)) files.push(path.join(d, f));
    }
  }
  for (const f of files.sort()) h.update(f).update(readFileSync(path.join(root, f)));
  return `backstop_${h.digest("hex").slice(0, 16)}`;
}

/** Path of Ponder's CLI (`node_modules/ponder/dist/esm/bin/ponder.js`), searched upwards from the root. @throws PonderStartError */
export function resolvePonderBin(root = PONDER_ROOT): string {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");
    if (existsSync(bin)) return bin;
    if (path.dirname(dir) === dir) throw new PonderStartError({ chain: "-", problem: "the ponder package is not installed" });
  }
}

function isPonderPid(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("ponder");
  } catch {
    return false;
  }
}

/**
 * Supervises `ponder start` as a child process: PONDER_TELEMETRY_DISABLED, loopback port, PGlite under
 * `dir` (or Postgres), restart with exponential backoff (1 s … 30 s) when it exits. A Ponder orphaned by
 * a killed Backstop (pid file) is killed before a new one starts, so two never share a database.
 */
export function createPonderSupervisor(p: CreatePonderSupervisorParameters): PonderSupervisor {
  const log = p.logger.child({ chain: p.chain, component: "ponder" });
  const ponderBin = resolvePonderBin();
  const pidFile = path.join(p.dir, "ponder.pid");
  const planFile = path.join(p.dir, "plan.json");
  const maxFailed = p.maxFailedStarts ?? 4;
  let child: ChildProcess | undefined;
  let port = 0;
  let stopping = false;
  let failedStarts = 0;
  let fatal: PonderStartError | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  const tail: string[] = [];

  function killStale() {
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isPonderPid(pid)) {
      log.warn({ msg: "killing a Ponder left running by a previous Backstop", pid });
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    unlinkSync(pidFile);
  }

  async function spawnOnce() {
    port = await findFreePort();
    const schema = computePonderSchema(p.plan);
    // An allow-list, never the parent's environment: a signing key or webhook secret in Backstop's
    // environment must not reach Ponder. It gets the plan, its RPC variables and, on Postgres, the
    // database URL and libpq's connection variables (PGPASSWORD when the URL has none).
    const env = buildChildEnv(process.env, {
      inherit: p.databaseUrl ? PG_CONNECTION_ENV : [],
      set: { ...p.rpcEnv, PONDER_TELEMETRY_DISABLED: "true", [PONDER_PLAN_ENV]: planFile, DATABASE_URL: p.databaseUrl },
    });
    const app = writePonderAppRoot(p.dir);
    const args = [...(p.nodeArgs ?? []), ponderBin, "--root", app, "--log-format", "json", "start", "--schema", schema, "--port", String(port), "--hostname", "127.0.0.1"];
    const c = spawn(process.execPath, args, { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    // Ponder alone never keeps Backstop alive (`index --once` must exit); the exit hook stops it.
    c.unref();
    (c.stdout as unknown as { unref?: () => void }).unref?.();
    (c.stderr as unknown as { unref?: () => void }).unref?.();
    writeFileSync(pidFile, String(c.pid));
    let healthy = false;
    const onLine = (line: string) => {
      if (!line.trim()) return;
      const clean = redact(line).slice(0, 400);
      tail.push(clean);
      if (tail.length > 20) tail.shift();
      try {
        const j = JSON.parse(line) as { level?: number; msg?: string; error?: { message?: string } };
        if ((j.level ?? 0) >= 50) log.error({ msg: "ponder error", ponder_msg: redact(`${j.msg ?? ""} ${j.error?.message ?? ""}`).slice(0, 400), ...(process.env.BACKSTOP_PONDER_STACKS ? { stack: (j.error as { stack?: string } | undefined)?.stack } : {}) });
        else if ((j.level ?? 0) >= 40) log.warn({ msg: "ponder warning", ponder_msg: redact(`${j.msg ?? ""} ${j.error?.message ?? ""}`).slice(0, 400), ...(process.env.BACKSTOP_PONDER_STACKS ? { stack: (j.error as { stack?: string } | undefined)?.stack } : {}) });
      } catch {
        // non-JSON output (stack traces): kept in the tail only
      }
    };
    for (const s of [c.stdout!, c.stderr!]) {
      let buf = "";
      s.on("data", (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    log.info({ msg: "ponder started", pid: c.pid, port, schema });
    const healthPoll = setInterval(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) {
          healthy = true;
          clearInterval(healthPoll);
          // Up and serving for a while: a later crash starts a fresh count.
          setTimeout(() => {
            if (child === c) failedStarts = 0;
          }, 120_000).unref();
        }
      } catch {
        // not up yet
      }
    }, 500);
    c.once("exit", (code, signal) => {
      clearInterval(healthPoll);
      if (child === c) child = undefined;
      if (stopping) return;
      // Exits by signal are external (kill -9 by an operator or a test, OOM): restart without counting.
      // Exits with an error code are Ponder's own failures (build error, handler error): count them.
      if (signal === null) failedStarts++;
      log.warn({ msg: "ponder exited", code, signal, failed_starts: failedStarts });
      if (failedStarts >= maxFailed) {
        fatal = new PonderStartError({ chain: p.chain, problem: `exited with an error ${failedStarts} times in a row (last: code ${code}, signal ${signal})`, log: tail.slice(-8) });
        return;
      }
      const delay = Math.min(1000 * 2 ** failedStarts, 30_000);
      restartTimer = setTimeout(() => void spawnOnce().catch((err) => (fatal = new PonderStartError({ chain: p.chain, problem: "cannot spawn", cause: err }))), delay);
    });
    c.once("error", (err) => {
      fatal = new PonderStartError({ chain: p.chain, problem: `cannot run ${ponderBin}`, cause: err });
    });
  }

  // At process exit only synchronous work runs: SIGKILL, because a Ponder whose parent is gone can
  // hang in its SIGTERM shutdown (seen here: stdout pipe closed). Its schema lock then expires after
  // 25 s, which the next start waits out (Ponder's crash recovery).
  function onExit() {
    stopping = true;
    child?.kill("SIGKILL");
  }

  return {
    async start() {
      mkdirSync(p.dir, { recursive: true });
      writeFileSync(planFile, JSON.stringify(p.plan, null, 2), { mode: 0o600 });
      killStale();
      stopping = false;
      // Never leave an orphan Ponder behind.
      process.once("exit", onExit);
      await spawnOnce();
    },
    baseUrl: () => `http://127.0.0.1:${port}`,
    pid: () => child?.pid,
    check() {
      if (fatal) throw fatal;
    },
    logTail: () => tail.slice(-8),
    async stop() {
      process.removeListener("exit", onExit);
      stopping = true;
      clearTimeout(restartTimer);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => c.kill("SIGKILL"), 5000);
        c.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
        c.kill("SIGTERM");
      });
      if (existsSync(pidFile)) unlinkSync(pidFile);
    },
  };
}
