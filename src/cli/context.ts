import { existsSync } from "node:fs";
import { validateChainConfig } from "../chains/validate-chain-config.js";
import { loadConfig, type ResolvedConfig } from "../lib/config.js";
import { BackstopError, ConfigError } from "../lib/errors.js";
import { createLogger, type Logger } from "../lib/logger.js";
import { openStore, type Store } from "../store/index.js";

/** Options every command shares. */
export type GlobalOptions = { config: string; verbose?: number; logFormat?: "json" | "pretty" };

/** The default config file, looked for in the working directory. */
export const DEFAULT_CONFIG = "./backstop.config.ts";

/** Creates the CLI's logger from the global options (-v: debug, -vv: trace). */
export function createCliLogger(o: GlobalOptions): Logger {
  const level = o.verbose && o.verbose > 1 ? "trace" : o.verbose ? "debug" : "info";
  return createLogger({ level, format: o.logFormat });
}

/** Loads and fully validates the config (structure, then per-chain rules), writing nothing. @throws ConfigError */
export async function loadAppConfig(o: GlobalOptions): Promise<ResolvedConfig> {
  const config = await loadConfig({ path: o.config });
  const problems = validateChainConfig(config);
  if (problems.length) throw new ConfigError({ path: o.config, problems });
  return config;
}

/** True when a config file exists at the path given (or the default). */
export function configExists(o: GlobalOptions): boolean {
  return existsSync(o.config);
}

/** Opens the store the config names (Postgres when DATABASE_URL is set, else the SQLite file). */
export function openConfigStore(config: ResolvedConfig): Promise<Store> {
  return openStore({ databaseUrl: config.store.databaseUrl, sqlitePath: config.store.sqlitePath, pgSchema: config.store.pgSchema });
}

/** Resolves a --chain argument against the config. @throws BackstopError */
export function requireChain(config: ResolvedConfig, key: string | undefined): string {
  const keys = Object.keys(config.chains);
  if (!key) {
    if (keys.length === 1) return keys[0]!;
    throw new UnknownChainError({ key: "(none)", known: keys });
  }
  if (!config.chains[key]) throw new UnknownChainError({ key, known: keys });
  return key;
}

/** --chain names no configured chain. */
export class UnknownChainError extends BackstopError {
  override name = "UnknownChainError";
  constructor(p: { key: string; known: string[] }) {
    super("CLI__UNKNOWN_CHAIN", `No chain "${p.key}" in the config.`, { meta: [`  configured: ${p.known.join(", ") || "(none)"}`] });
  }
}
