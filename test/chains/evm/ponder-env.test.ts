import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPonderSupervisor, type PonderSupervisor } from "../../../src/chains/evm/create-ponder-supervisor.js";
import { PONDER_PLAN_ENV } from "../../../src/chains/evm/ponder-plan.js";
import { buildChildEnv } from "../../../src/lib/build-child-env.js";
import { createLogger } from "../../../src/lib/logger.js";
import { startAnvil, type Anvil } from "../../../src/devnet/evm/start-anvil.js";

/** Secrets an operator may keep in Backstop's environment; none of them is Ponder's business. */
const SECRETS = {
  BACKSTOP_CHECKPOINT_SIGNING_KEY: "ed25519-seed-S3CR3T-5f1c0a9e2b7d44c3a1e0",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/S3CR3T-slack",
  ALERT_WEBHOOK_SECRET: "whsec_S3CR3TwebhookHmacSecret0000",
  PAGERDUTY_ROUTING_KEY: "R0S3CR3Tpagerduty00000000000000",
  DATABASE_URL: "postgres://backstop:S3CR3T-db@db.internal:5432/backstop",
  NODE_OPTIONS: "--require /tmp/S3CR3T-preload.js",
};

function environOf(pid: number): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(raw.split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

describe("the Ponder child's environment", () => {
  let anvil: Anvil;
  let dir: string;
  let sup: PonderSupervisor | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    anvil = await startAnvil({ chainId: 31337 });
    dir = mkdtempSync(path.join(tmpdir(), "backstop-ponder-env-"));
    for (const [k, v] of Object.entries(SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(async () => {
    await sup?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is an allow-list: the plan, its RPC variable and the basics reach Ponder; Backstop's secrets do not", async () => {
    // anvil is spawned after the secrets were set too: it got none of them either.
    expect(Object.values(environOf(anvil.pid)).join("\n")).not.toContain("S3CR3T");
    sup = createPonderSupervisor({
      chain: "anvil",
      dir,
      logger: createLogger({ level: "silent" }),
      rpcEnv: { BACKSTOP_RPC_ANVIL: anvil.rpcUrl },
      plan: {
        version: 1,
        pgliteDir: path.join(dir, "pglite"),
        chains: [{ key: "anvil", chainId: 31337, rpcEnv: "BACKSTOP_RPC_ANVIL", startBlock: 0, snapshotInterval: 100, multicall3: "0xca11bde05977b3631167028862be2a173976ca11", nativeAsset: "ETH", wallets: [], tokens: [] }],
      },
    });
    await sup.start();
    const env = environOf(sup.pid()!);
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(env[name], name).toBeUndefined();
      expect(Object.values(env).some((v) => v.includes(value)), `${name}'s value`).toBe(false);
    }
    expect(env).toMatchObject({ BACKSTOP_RPC_ANVIL: anvil.rpcUrl, PONDER_TELEMETRY_DISABLED: "true", [PONDER_PLAN_ENV]: path.join(dir, "plan.json"), PATH: process.env.PATH });
    const allowed = /^(PATH|HOME|USER|LOGNAME|TMPDIR|TMP|TEMP|LANG|LANGUAGE|TZ|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|LC_\w+|BACKSTOP_RPC_ANVIL|PONDER_TELEMETRY_DISABLED|BACKSTOP_PONDER_PLAN)$/;
    expect(Object.keys(env).filter((k) => !allowed.test(k))).toEqual([]);
    // That this is enough for Ponder to build, sync and serve is what evm-indexer.test.ts shows, on this env.
  }, 60_000);

  it("buildChildEnv passes Postgres' connection variables only when asked, and sets what it is given", () => {
    const parent = { PATH: "/bin", LC_ALL: "C.UTF-8", PGPASSWORD: "pw", SECRET_X: "x", DATABASE_URL: "postgres://a" };
    expect(buildChildEnv(parent)).toEqual({ PATH: "/bin", LC_ALL: "C.UTF-8" });
    expect(buildChildEnv(parent, { inherit: ["PGPASSWORD"], set: { DATABASE_URL: "postgres://b", NONE: undefined } })).toEqual({ PATH: "/bin", LC_ALL: "C.UTF-8", PGPASSWORD: "pw", DATABASE_URL: "postgres://b" });
  });
});
