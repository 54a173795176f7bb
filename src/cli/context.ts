import { existsSync } from "node:fs";
import { validateChainConfig } from "../chains/validate-chain-config.js";
import { buildDemoCliCommand, DEMO_CONFIG_FILE, DEMO_DIR, resolveDemoFiles } from "../demo/demo-files.js";
import { loadConfig, type ResolvedConfig } from "../lib/config.js";
import { BackstopError, ConfigError, ConfigNotFoundError } from "../lib/errors.js";
import { createLogger, type Logger } from "../lib/logger.js";
import { openStore, type Store } from "../store/index.js";

/** Options every command shares. */
export type GlobalOptions = {
  config: string;
  /** `--env-file`: NAME=value lines laid over the environment for the config's env references (never into process.env). */
  envFile?: string;
  verbose?: number;
  logFormat?: "json" | "pretty";
};

/** The default config file, looked for in the working directory. */
export const DEFAULT_CONFIG = "./backstop.config.ts";

const LEVELS = ["warn", "info", "debug", "trace"] as const;

/**
 * Creates the CLI's logger from the global options: info by default, each -v one level more (debug,
 * trace). With `quietWhenPretty` (the demo), pretty output (a terminal, or --log-format pretty)
 * starts at warn instead, so the command's own printed lines stay readable; -v brings info back.
 */
export function createCliLogger(o: GlobalOptions, p: { quietWhenPretty?: boolean } = {}): Logger {
  const format = o.logFormat ?? (process.stderr.isTTY ? "pretty" : "json");
  const start = p.quietWhenPretty && format === "pretty" ? 0 : 1;
  const level = LEVELS[Math.min(LEVELS.length - 1, start + (o.verbose ?? 0))]!;
  return createLogger({ level, format });
}

/**
 * Loads and fully validates the config (structure, then per-chain rules), writing nothing. A missing
 * config file says where one is: the demo's written config when it exists, `npm start`, examples/.
 * @throws ConfigNotFoundError, ConfigError, and the env file's errors
 */
export async function loadAppConfig(o: GlobalOptions): Promise<ResolvedConfig> {
  if (!existsSync(o.config)) throw new ConfigNotFoundError({ path: o.config, hints: buildMissingConfigHints() });
  const config = await loadConfig({ path: o.config, envFile: o.envFile });
  const problems = validateChainConfig(config);
  if (problems.length) throw new ConfigError({ path: o.config, problems });
  return config;
}

/** What to do without a config: the demo's written config (when `npm start` ran here), the demo, examples/. */
export function buildMissingConfigHints(): string[] {
  const demo = resolveDemoFiles();
  return [
    ...(existsSync(demo.config) && existsSync(demo.env)
      ? ["the local demo's config is here; run any command against the demo's store with:", `  ${buildDemoCliCommand({ command: "balances" })}`]
      : [`\`npm start\` (no config needed) runs the local demo and writes its config to ${DEMO_DIR}/${DEMO_CONFIG_FILE}`]),
    "for your own deployment, start from examples/backstop.config.ts (copy it to ./backstop.config.ts, or pass --config <path>)",
  ];
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
