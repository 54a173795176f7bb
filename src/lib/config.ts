import { existsSync, readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { CHAINS } from "../../chains/index.js";
import { alertsConfigSchema, resolveAlertsConfig, type ResolvedAlerts } from "./alerts-config.js";
import { toBaseUnits } from "./amounts.js";
import type { ChainDescriptor } from "./chain.js";
import { ConfigError, ConfigNotFoundError } from "./errors.js";
import { loadEnvFile } from "./load-env-file.js";

/** A reference to an environment variable, resolved once by loadConfig: secrets never live in config files. */
export type EnvRef = { env: string };
/** Marks a config value as coming from the environment variable `name`. */
export function env(name: string): EnvRef {
  return { env: name };
}

const envOrString = z.union([z.string().min(1), z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }).strict()]);

const chainSchema = z
  .object({
    /** Descriptor id of a file in chains/ ("bitcoin", "bitcoin-regtest", "ethereum", ...). */
    chain: z.string(),
    /** RPC endpoints, tried in order; use env("NAME") for any URL that carries a key. */
    rpc: z.array(envOrString).min(1),
    /** Override of the descriptor's finality depth (blocks). */
    finalityDepth: z.number().int().min(1).max(10_000).optional(),
    /** Milliseconds between head polls when following. Default 2000. */
    pollIntervalMs: z.number().int().min(50).max(600_000).optional(),
    /** Per-request RPC timeout in milliseconds. Default 10000. */
    rpcTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    /**
     * Bitcoin: check each block's merkle root against its transactions (default true). Costs
     * about 10 ms of CPU per 1.5 MB block; turn off only for a node you trust over a trusted link.
     */
    verifyMerkleRoot: z.boolean().optional(),
    /** First height to index (the wallets' birthday). Default 0. */
    startHeight: z.number().int().min(0).optional(),
    /** Recent block headers kept for reorg detection. Default max(finalityDepth * 2, 100). */
    headerWindow: z.number().int().min(1).optional(),
    /**
     * Headers younger than this (by block time, against the newest stored block) are kept too: a snapshot
     * imported up to this long after its time can still be anchored. Default 86400 (a day).
     */
    headerRetentionSeconds: z.number().int().min(0).optional(),
    /** EVM: read every (wallet, asset) every N blocks (catches what emits no event). Default 100. */
    snapshotInterval: z.number().int().min(1).optional(),
    /** EVM: Multicall3 address when not the canonical one. */
    multicall3: z.string().optional(),
    /** EVM: Ponder's request-rate cap for this chain's RPC, requests/s. */
    maxRequestsPerSecond: z.number().int().min(1).optional(),
    /** Solana: the wallets held nothing before this slot; index every block from it. */
    birthdaySlot: z.number().int().min(0).optional(),
    /**
     * Checkpoints: seconds a checkpoint's anchor block's time may lie before the snapshot's time before the
     * checkpoint is `not_anchored` (it publishes no coverage). Default per kind: Bitcoin 7200 (an hour between
     * blocks happens; block times may lag), EVM 600, Solana 120.
     */
    maxAnchorSkewSeconds: z.number().int().min(1).max(31_536_000).optional(),
    /**
     * Checkpoints: W, the window dressing window in blocks (slots on Solana) on each side of the anchor: the
     * checkpoint states the minimum of reserves over [anchor - W, anchor + W] and is only signed once
     * anchor + W is final (until then it is provisional). Default per kind: Bitcoin 6 (an hour), EVM 64
     * (two Ethereum epochs, about 13 minutes), Solana 150 (about a minute).
     */
    windowBlocks: z.number().int().min(0).max(100_000).optional(),
  })
  // Strict: a misspelled key is an error with its path, never silently ignored.
  .strict();

const assetSchema = z
  .object({
    /** Chain key (a key of `chains`). */
    chain: z.string(),
    /** Decimals of the base unit (BTC 8, ETH 18, USDC 6). */
    decimals: z.number().int().min(0).max(77),
    /** The chain's native asset (BTC, ETH, SOL). */
    native: z.literal(true).optional(),
    /** Token contract (EVM) or mint (Solana). */
    address: z.string().optional(),
    /** Display symbol; default the asset id. */
    symbol: z.string().optional(),
    /** Solana: the mint's token program. */
    tokenProgram: z.enum(["spl-token", "token-2022"]).optional(),
    /**
     * The liability asset (a key of `liabilityAssets`) this chain asset counts as reserves for in checkpoints.
     * Default: none: the asset backs nothing (listed as such, never netted).
     */
    backs: z.string().optional(),
  })
  .strict();

const liabilityAssetSchema = z
  .object({
    /** Decimals of the liability asset's base unit, as the liabilities snapshot states amounts (BTC 8, ETH 18, USDC 6). */
    decimals: z.number().int().min(0).max(77),
    /** Display symbol; default the id. */
    symbol: z.string().optional(),
  })
  .strict();

const checkpointsSchema = z
  .object({
    /**
     * The Ed25519 signing key of checkpoints, as `backstop keys generate` prints it (`ed25519:<base64url seed>`).
     * Always an env("NAME") reference: the key is never in a config file, a log or the store. Default: none
     * (`checkpoint create` refuses to run).
     */
    signingKey: z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/) }).strict().optional(),
    /**
     * The published public keys (the JWKS), each with its validity window: a checkpoint verifies with a key
     * only if the snapshot time it attests to lies in [notBefore, notAfter). The signing key must be listed.
     */
    keys: z
      .array(
        z
          .object({
            /** The public key: base64url of the 32 raw Ed25519 bytes (the JWK's `x`). */
            x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "expected 43 base64url characters (32 bytes)"),
            /** ISO-8601 with an explicit offset; the key signs checkpoints of snapshots at or after this time. */
            notBefore: z.string(),
            /** ISO-8601 with an explicit offset; none: no end yet. */
            notAfter: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    /** `backstop start` creates a checkpoint for each newly imported snapshot once every chain finalized past it. Default true. */
    auto: z.boolean().optional(),
    /**
     * Window dressing threshold, basis points of a liability asset's anchored reserves: a rise of reserves
     * within the W blocks before the anchors of more than this, followed by a drop of more than this within
     * the W blocks after them, flags the checkpoint `window_dressing`. Default 1000 (10%).
     */
    windowDressingBps: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

const walletSchema = z
  .object({
    /** Unique human label. */
    label: z.string().min(1).max(128),
    /** Chain key. */
    chain: z.string(),
    /** One address. */
    address: z.string().optional(),
    /** Bitcoin output descriptor (xpub/tpub with /0/* or /<0;1>/*). */
    descriptor: z.string().optional(),
    /** Unused addresses kept derived past the last used one. Default 20. */
    gapLimit: z.number().int().min(1).max(10_000).optional(),
    /**
     * Height (Solana: slot) before which the wallet held nothing. A wallet added to a store that already
     * indexes its chain is backfilled from it (Bitcoin: a rescan of [birthday, cursor]; Solana: a replay of
     * those slots) and counts only once that is done. Must not be above the node's tip. Default: none
     * (Bitcoin: the chain's startHeight; Solana: a baseline read of its balances at a finalized slot).
     */
    birthday: z.number().int().min(0).optional(),
  })
  .strict();

/** Scopes an API key can carry: `read` (queries), `metrics` (/metrics), `alerts:write`, `movements:write` (mutations of later issues). */
export const API_KEY_SCOPES = ["read", "metrics", "alerts:write", "movements:write"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const apiKeySchema = z
  .object({
    /** Who or what holds the key (a tool, a team); shown in logs with the key's prefix. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a name is [A-Za-z0-9._-], at most 64 characters"),
    /** `sha256:<64 hex>` of the key, as `backstop keys api-create` prints it; never the key itself. */
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 lowercase hex> (from `backstop keys api-create`)"),
    /** What the key may do. */
    scopes: z.array(z.enum(API_KEY_SCOPES)).min(1),
    /** Expiry, ISO-8601 with an explicit offset (e.g. 2026-12-31T23:59:59Z); none: the key does not expire. */
    expiresAt: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, "ISO-8601 with an explicit offset").optional(),
    /** A revoked key is refused (401) like an unknown one; kept in the config as a record. Default false. */
    revoked: z.boolean().optional(),
  })
  .strict();

const serveSchema = z
  .object({
    /** Interface the API server listens on. Default 127.0.0.1 (loopback only). */
    host: z.string().min(1).optional(),
    /** TCP port of the API server. Default 8787. */
    port: z.number().int().min(0).max(65_535).optional(),
    /** API keys (hashes only). Default none: every /graphql and /metrics request is refused (401). */
    apiKeys: z.array(apiKeySchema).optional(),
    /** Rate limit per API key in points (1 per operation + 1 per alias) per second. Default 50. */
    rateLimitPerSecond: z.number().min(0.01).max(1_000_000_000).optional(),
    /** Burst allowance per API key in points (the bucket's size). Default 500. */
    rateLimitBurst: z.number().int().min(1).max(1_000_000_000).optional(),
    /** Per-query time limit in milliseconds. Default 5000. */
    queryTimeoutMs: z.number().int().min(10).max(120_000).optional(),
  })
  .strict();

const movementsSchema = z
  .object({
    /** Seconds a custody outflow (or inflow) may stay without a record before it is unexplained. Default 600 (10 min). */
    graceSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
    /** Seconds after a record's time within which its movement must appear on chain, else missing_on_chain. Default 3600. */
    slaSeconds: z.number().int().min(1).max(30 * 86_400).optional(),
    /** Largest distance in seconds between a record's time and a block's time for a match without txid. Default 86400. */
    windowSeconds: z.number().int().min(1).max(30 * 86_400).optional(),
    /** Per fee asset id: the largest expected fee of one transaction, in display units ("0.0005"); a fee above it is flagged. */
    feeCeilings: z.record(z.string(), z.string()).optional(),
    /** Per asset id: inflows below this amount (display units) without a record are dust (info, grouped per dust window). Default none. */
    dustFloors: z.record(z.string(), z.string()).optional(),
    /** Seconds of block time one dust incident groups (per chain and asset). Default 3600. */
    dustWindowSeconds: z.number().int().min(1).max(30 * 86_400).optional(),
    /** Characters compared at each end of an address for look-alikes of known counterparties (after "0x" or a bech32 "hrp1"); 0 disables. Default 4. */
    lookAlikeChars: z.number().int().min(0).max(16).optional(),
    /**
     * Chain keys whose custody movements are matched against the platform's records. Default: every chain.
     * A chain left out gets no movement outcomes (its legs are not flagged) and records for it are refused.
     */
    chains: z.array(z.string()).optional(),
  })
  .strict();

const configSchema = z
  .object({
    /** Movement reconciliation (issue 14): grace period, SLA, match window, fee ceilings. */
    movements: movementsSchema.optional(),
    /** The API server (`backstop serve`, also run by `backstop start`). */
    serve: serveSchema.optional(),
    /** Embedded store: SQLite file. Default `.backstop/backstop.db`. Postgres is chosen by DATABASE_URL. */
    store: z.object({ sqlitePath: z.string().optional() }).strict().optional(),
    chains: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "chain keys are lowercase [a-z0-9-]"), chainSchema),
    assets: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/), assetSchema),
    /**
     * What the platform owes its users in (BTC, ETH, USDC), with decimals: the asset ids of liabilities
     * snapshots. Default: none, and snapshots are stated in the chain asset ids of `assets` (the layout
     * before checkpoints).
     */
    liabilityAssets: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/), liabilityAssetSchema).optional(),
    /** Solvency checkpoints: signing key, published keys. */
    checkpoints: checkpointsSchema.optional(),
    wallets: z.array(walletSchema),
    /** Alert rules, sinks and delivery (issue 11; see docs/alerts.md). */
    alerts: alertsConfigSchema.optional(),
  })
  .passthrough();

export type ConfigInput = z.input<typeof configSchema>;
export type ChainConfigInput = z.input<typeof chainSchema>;
export type AssetConfigInput = z.input<typeof assetSchema>;
export type WalletConfigInput = z.input<typeof walletSchema>;

/** Typed identity for `backstop.config.ts`. */
export function defineConfig<const C extends ConfigInput>(c: C): C {
  return c;
}

export type ResolvedChain = Omit<z.output<typeof chainSchema>, "rpc"> & {
  key: string;
  descriptor: ChainDescriptor;
  rpc: string[];
  finalityDepth: number;
  startHeight: number;
  verifyMerkleRoot: boolean;
  pollIntervalMs: number;
  rpcTimeoutMs: number;
  headerWindow: number;
  headerRetentionSeconds: number;
};
export type ResolvedAsset = z.output<typeof assetSchema> & { id: string; symbol: string };
export type ResolvedWallet = z.output<typeof walletSchema> & { gapLimit: number };
export type ApiKeyConfig = z.output<typeof apiKeySchema>;
/** A liability asset: what snapshots are stated in. */
export type ResolvedLiabilityAsset = { id: string; decimals: number; symbol: string };
/** A published checkpoint public key with its validity window (unix ms; notAfterMs null: open). */
export type CheckpointKeyConfig = { x: string; notBefore: string; notBeforeMs: number; notAfter: string | null; notAfterMs: number | null };
/** Checkpoint settings with defaults applied. The signing key is resolved from the environment (never logged, never stored). */
export type ResolvedCheckpoints = {
  signingKey: string | undefined;
  signingKeyEnv: string | undefined;
  keys: CheckpointKeyConfig[];
  auto: boolean;
  /** Window dressing threshold in bps of anchored reserves (absent in hand-built configs: DEFAULT_WINDOW_DRESSING_BPS). */
  windowDressingBps?: number;
};
/** The API server's settings with defaults applied. */
export type ResolvedServe = { host: string; port: number; apiKeys: ApiKeyConfig[]; rateLimitPerSecond: number; rateLimitBurst: number; queryTimeoutMs: number };

/** Movement reconciliation settings with defaults applied; fee ceilings in base units of their asset. */
export type ResolvedMovements = {
  graceSeconds: number; slaSeconds: number; windowSeconds: number; feeCeilings: Record<string, bigint>;
  /** Base units per asset; absent: no dust floors. */
  dustFloors?: Record<string, bigint>;
  /** Absent: 3600. */
  dustWindowSeconds?: number;
  /** Absent: 4; 0 disables the look-alike check. */
  lookAlikeChars?: number;
  /** Chains reconciled against records; absent: every configured chain (resolveReconciledChains). */
  chains?: readonly string[];
};

/** The chains whose movements are matched against records: `movements.chains`, else every configured chain. */
export function resolveReconciledChains(config: { chains: Record<string, unknown>; movements?: ResolvedMovements }): string[] {
  return config.movements?.chains ? [...config.movements.chains] : Object.keys(config.chains);
}

/** The movement settings of a config (defaults when the section is absent). */
export function resolveMovementsConfig(config: { movements?: ResolvedMovements }): ResolvedMovements {
  return config.movements ?? { graceSeconds: 600, slaSeconds: 3600, windowSeconds: 86_400, feeCeilings: {}, dustFloors: {}, dustWindowSeconds: 3600, lookAlikeChars: 4 };
}

/** A validated configuration with environment references resolved. */
export type ResolvedConfig = {
  path: string;
  chains: Record<string, ResolvedChain>;
  assets: Record<string, ResolvedAsset>;
  wallets: ResolvedWallet[];
  /** Liability assets by id (empty: snapshots use the chain asset ids). */
  liabilityAssets: Record<string, ResolvedLiabilityAsset>;
  checkpoints: ResolvedCheckpoints;
  store: { sqlitePath: string; databaseUrl: string | undefined; pgSchema: string | undefined };
  serve: ResolvedServe;
  /** Alert rules (thresholds in base units), sinks (secrets resolved) and delivery settings. */
  alerts: ResolvedAlerts;
  /** Movement reconciliation; absent in hand-built configs (read it through resolveMovementsConfig). */
  movements?: ResolvedMovements;
  /** Extra top-level sections (later issues: rules, api keys), validated by their owners. */
  raw: Record<string, unknown>;
};

/** Formats a zod/issue path as `wallets[3].descriptor`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(root)";
}

export type LoadConfigParameters = {
  /** Config file (.ts, .js, .mjs or .json). */
  path: string;
  /** The environment to resolve env references from; loadConfig is the only reader of process.env. Default process.env. */
  env?: Record<string, string | undefined>;
  /**
   * An env file (`NAME=value` lines, e.g. the demo's `demo.env`) whose values are laid over `env`
   * (the file wins: it was named explicitly), only for resolving this config: never written into
   * process.env, so child processes such as Ponder do not inherit them. Default: none.
   */
  envFile?: string;
};

/**
 * Loads, validates and resolves the configuration. Reports every problem with
 * its path in one ConfigError, and has no side effects (writes nothing).
 * @throws ConfigNotFoundError, ConfigError, and loadEnvFile's errors
 */
export async function loadConfig(p: LoadConfigParameters): Promise<ResolvedConfig> {
  const path = resolve(p.path);
  // Checked first: importing a missing .ts file fails with a module-resolution message, not ENOENT.
  if (!existsSync(path)) throw new ConfigNotFoundError({ path: p.path });
  const base = p.env ?? process.env;
  const environment = p.envFile === undefined ? base : { ...base, ...loadEnvFile(p.envFile) };
  let input: unknown;
  try {
    if (extname(path) === ".json") input = JSON.parse(readFileSync(path, "utf8"));
    else {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      input = mod.default;
    }
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" ? "file not found" : `cannot be read: ${(cause as Error).message.split("\n")[0]}`;
    throw new ConfigError({ path: p.path, problems: [`(file): ${problem}`], cause });
  }
  return resolveConfig({ input, path: p.path, env: environment });
}

/** Validates an already-loaded config object (same rules as loadConfig). @throws ConfigError */
export function resolveConfig(p: { input: unknown; path: string; env: Record<string, string | undefined> }): ResolvedConfig {
  const parsed = configSchema.safeParse(p.input);
  if (!parsed.success) {
    throw new ConfigError({ path: p.path, problems: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) });
  }
  const c = parsed.data;
  const problems: string[] = [];
  const resolveEnv = (v: string | EnvRef, at: string): string => {
    if (typeof v === "string") return v;
    const value = p.env[v.env];
    if (!value) problems.push(`${at}: environment variable ${v.env} is not set`);
    return value ?? "";
  };

  const chains: Record<string, ResolvedChain> = {};
  for (const [key, ch] of Object.entries(c.chains)) {
    const descriptor = CHAINS[ch.chain];
    if (!descriptor) {
      problems.push(`chains.${key}.chain: unknown chain "${ch.chain}" (known: ${Object.keys(CHAINS).sort().join(", ")})`);
      continue;
    }
    const rpc = ch.rpc.map((r, i) => resolveEnv(r, `chains.${key}.rpc[${i}]`));
    rpc.forEach((u, i) => {
      if (u && !/^https?:\/\//.test(u)) problems.push(`chains.${key}.rpc[${i}]: must be an http(s) URL`);
    });
    const finalityDepth = ch.finalityDepth ?? descriptor.finalityDepth;
    chains[key] = {
      ...ch,
      key,
      descriptor,
      rpc,
      finalityDepth,
      startHeight: ch.startHeight ?? 0,
      verifyMerkleRoot: ch.verifyMerkleRoot ?? true,
      pollIntervalMs: ch.pollIntervalMs ?? 2000,
      rpcTimeoutMs: ch.rpcTimeoutMs ?? 10_000,
      headerWindow: ch.headerWindow ?? Math.max(finalityDepth * 2, 100),
      headerRetentionSeconds: ch.headerRetentionSeconds ?? 86_400,
    };
  }

  const assets: Record<string, ResolvedAsset> = {};
  for (const [id, a] of Object.entries(c.assets)) {
    const chain = chains[a.chain];
    if (!c.chains[a.chain]) problems.push(`assets.${id}.chain: unknown chain key "${a.chain}"`);
    if (chain && a.native && a.decimals !== chain.descriptor.nativeAsset.decimals) {
      problems.push(`assets.${id}.decimals: ${chain.descriptor.name}'s native asset has ${chain.descriptor.nativeAsset.decimals} decimals, not ${a.decimals}`);
    }
    if (!a.native && !a.address) problems.push(`assets.${id}: a non-native asset needs an address (token contract or mint)`);
    if (a.native && a.address) problems.push(`assets.${id}: a native asset has no address`);
    assets[id] = { ...a, id, symbol: a.symbol ?? id };
  }
  const liabilityAssets: Record<string, ResolvedLiabilityAsset> = {};
  for (const [id, l] of Object.entries(c.liabilityAssets ?? {})) liabilityAssets[id] = { id, decimals: l.decimals, symbol: l.symbol ?? id };
  for (const [id, a] of Object.entries(c.assets)) {
    if (a.backs === undefined) continue;
    if (!c.liabilityAssets) problems.push(`assets.${id}.backs: "${a.backs}" needs a liabilityAssets section that defines it`);
    else if (!liabilityAssets[a.backs]) problems.push(`assets.${id}.backs: unknown liability asset "${a.backs}" (known: ${Object.keys(liabilityAssets).sort().join(", ") || "none"})`);
  }
  const isoOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  const keys: CheckpointKeyConfig[] = [];
  (c.checkpoints?.keys ?? []).forEach((k, i) => {
    const nb = isoOffset.test(k.notBefore) ? Date.parse(k.notBefore) : NaN;
    const na = k.notAfter === undefined ? null : isoOffset.test(k.notAfter) ? Date.parse(k.notAfter) : NaN;
    if (Number.isNaN(nb)) problems.push(`checkpoints.keys[${i}].notBefore: expected ISO-8601 with an explicit offset`);
    if (na !== null && Number.isNaN(na)) problems.push(`checkpoints.keys[${i}].notAfter: expected ISO-8601 with an explicit offset`);
    if (na !== null && !Number.isNaN(na) && !Number.isNaN(nb) && na <= nb) problems.push(`checkpoints.keys[${i}].notAfter: must be after notBefore`);
    if (keys.some((o) => o.x === k.x)) problems.push(`checkpoints.keys[${i}].x: the same key is listed twice`);
    keys.push({ x: k.x, notBefore: k.notBefore, notBeforeMs: nb, notAfter: k.notAfter ?? null, notAfterMs: na });
  });
  const signingKeyEnv = c.checkpoints?.signingKey?.env;
  const signingKey = signingKeyEnv === undefined ? undefined : p.env[signingKeyEnv] || undefined;
  if (signingKeyEnv !== undefined && signingKey === undefined) problems.push(`checkpoints.signingKey: environment variable ${signingKeyEnv} is not set`);
  for (const key of Object.keys(c.chains)) {
    const natives = Object.values(assets).filter((a) => a.chain === key && a.native);
    if (natives.length > 1) problems.push(`assets: chain "${key}" has more than one native asset (${natives.map((a) => a.id).join(", ")})`);
  }

  const labels = new Map<string, number>();
  const wallets: ResolvedWallet[] = c.wallets.map((w, i) => {
    if (!c.chains[w.chain]) problems.push(`wallets[${i}].chain: unknown chain key "${w.chain}"`);
    if ((w.address === undefined) === (w.descriptor === undefined)) problems.push(`wallets[${i}]: give exactly one of address or descriptor`);
    if (w.descriptor !== undefined && chains[w.chain] && chains[w.chain]!.descriptor.kind !== "bitcoin") {
      problems.push(`wallets[${i}].descriptor: descriptors are for Bitcoin chains only`);
    }
    const prev = labels.get(w.label);
    if (prev !== undefined) problems.push(`wallets[${i}].label: "${w.label}" is already used by wallets[${prev}]`);
    else labels.set(w.label, i);
    return { ...w, gapLimit: w.gapLimit ?? 20 };
  });

  const keyNames = new Map<string, number>();
  const keyHashes = new Map<string, number>();
  (c.serve?.apiKeys ?? []).forEach((k, i) => {
    if (keyNames.has(k.name)) problems.push(`serve.apiKeys[${i}].name: "${k.name}" is already used by serve.apiKeys[${keyNames.get(k.name)}]`);
    else keyNames.set(k.name, i);
    if (keyHashes.has(k.hash)) problems.push(`serve.apiKeys[${i}].hash: the same key as serve.apiKeys[${keyHashes.get(k.hash)}]`);
    else keyHashes.set(k.hash, i);
    if (k.expiresAt !== undefined && Number.isNaN(Date.parse(k.expiresAt))) problems.push(`serve.apiKeys[${i}].expiresAt: not a valid date`);
  });

  const alerts = resolveAlertsConfig({
    input: c.alerts,
    chains: Object.keys(c.chains),
    assets: c.assets,
    liabilityAssets: Object.keys(c.liabilityAssets ?? {}),
    walletLabels: c.wallets.map((w) => w.label),
    resolveEnv,
    problems,
  });

  // Per-asset amounts in display units (movements.feeCeilings, movements.dustFloors), exact in base units.
  const perAssetAmounts = (key: "feeCeilings" | "dustFloors"): Record<string, bigint> => {
    const out: Record<string, bigint> = {};
    for (const [id, text] of Object.entries(c.movements?.[key] ?? {})) {
      const asset = assets[id];
      if (!asset) {
        problems.push(`movements.${key}.${id}: unknown asset "${id}"`);
        continue;
      }
      try {
        out[id] = toBaseUnits(text, asset.decimals);
      } catch (err) {
        problems.push(`movements.${key}.${id}: ${(err as Error).message}`);
      }
    }
    return out;
  };
  const feeCeilings = perAssetAmounts("feeCeilings");
  const dustFloors = perAssetAmounts("dustFloors");
  (c.movements?.chains ?? []).forEach((key, i) => {
    if (!(key in c.chains)) problems.push(`movements.chains[${i}]: unknown chain "${key}" (configured: ${Object.keys(c.chains).sort().join(", ")})`);
  });

  if (problems.length) throw new ConfigError({ path: p.path, problems });
  const { store, serve, movements, chains: _c, assets: _a, wallets: _w, liabilityAssets: _l, checkpoints: _k, alerts: _al, ...raw } = c;
  return {
    path: p.path,
    chains,
    assets,
    wallets,
    liabilityAssets,
    checkpoints: { signingKey, signingKeyEnv, keys, auto: c.checkpoints?.auto ?? true, windowDressingBps: c.checkpoints?.windowDressingBps ?? 1000 },
    store: {
      sqlitePath: store?.sqlitePath ?? ".backstop/backstop.db",
      databaseUrl: p.env.DATABASE_URL || undefined,
      pgSchema: p.env.BACKSTOP_PG_SCHEMA || undefined,
    },
    serve: {
      host: serve?.host ?? "127.0.0.1",
      port: serve?.port ?? 8787,
      apiKeys: serve?.apiKeys ?? [],
      rateLimitPerSecond: serve?.rateLimitPerSecond ?? 50,
      rateLimitBurst: serve?.rateLimitBurst ?? 500,
      queryTimeoutMs: serve?.queryTimeoutMs ?? 5000,
    },
    alerts,
    movements: {
      graceSeconds: movements?.graceSeconds ?? 600,
      slaSeconds: movements?.slaSeconds ?? 3600,
      windowSeconds: movements?.windowSeconds ?? 86_400,
      feeCeilings,
      dustFloors,
      dustWindowSeconds: movements?.dustWindowSeconds ?? 3600,
      lookAlikeChars: movements?.lookAlikeChars ?? 4,
      ...(movements?.chains ? { chains: [...new Set(movements.chains)] } : {}),
    },
    raw,
  };
}

/**
 * The asset ids (and decimals) liabilities snapshots are stated in: the liability assets when the config
 * has a `liabilityAssets` section, else the chain assets (the layout before checkpoints).
 */
export function resolveSnapshotAssets(config: Pick<ResolvedConfig, "assets" | "liabilityAssets">): Record<string, { decimals: number }> {
  const source = Object.keys(config.liabilityAssets).length ? config.liabilityAssets : config.assets;
  return Object.fromEntries(Object.entries(source).map(([id, a]) => [id, { decimals: a.decimals }]));
}
