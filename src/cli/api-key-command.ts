import type { Command } from "commander";
import { API_KEY_SCOPES, type ApiKeyScope } from "../lib/config.js";
import { BackstopError } from "../lib/errors.js";
import { createApiKey } from "../serve/api-keys.js";

/**
 * `backstop keys api-create --name <n> --scopes read[,metrics,...] [--expires <iso>] [--json]`: makes
 * a new API key, prints it once (stdout) with the config entry holding only its hash. Registers
 * under the `keys` group (created if no other command made it yet), so it shares the group with
 * `keys generate` (signing keys).
 */
export function registerApiKeyCommands(program: Command) {
  const keys = program.commands.find((c) => c.name() === "keys") ?? program.command("keys").description("API keys and signing keys");
  keys
    .command("api-create")
    .description("create an API key: prints the key once, and the hash to put in serve.apiKeys")
    .requiredOption("--name <name>", "who holds the key ([A-Za-z0-9._-], at most 64)")
    .requiredOption("--scopes <scopes>", `comma-separated: ${API_KEY_SCOPES.join(", ")}`)
    .option("--expires <timestamp>", "expiry, ISO-8601 with an explicit offset (e.g. 2026-12-31T23:59:59Z)")
    .option("--json", "print JSON")
    .action((o: { name: string; scopes: string; expires?: string; json?: boolean }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.name)) throw new ApiKeyOptionError({ problem: "--name must be [A-Za-z0-9._-], at most 64 characters" });
      const scopes = [...new Set(o.scopes.split(",").map((s) => s.trim()).filter(Boolean))];
      const bad = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
      if (!scopes.length || bad.length) throw new ApiKeyOptionError({ problem: `--scopes must list some of ${API_KEY_SCOPES.join(", ")}${bad.length ? ` (unknown: ${bad.join(", ")})` : ""}` });
      if (o.expires !== undefined && (!/(Z|[+-]\d{2}:\d{2})$/.test(o.expires) || Number.isNaN(Date.parse(o.expires)))) {
        throw new ApiKeyOptionError({ problem: "--expires must be ISO-8601 with an explicit offset" });
      }
      const k = createApiKey();
      const entry = { name: o.name, hash: k.hash, scopes: scopes as ApiKeyScope[], ...(o.expires ? { expiresAt: o.expires } : {}) };
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ key: k.key, prefix: k.prefix, config: entry }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          `API key (shown once; store it in your tool's secret store): ${k.key}`,
          `prefix (what logs show): ${k.prefix}`,
          "add to serve.apiKeys in the config:",
          `  ${JSON.stringify(entry)}`,
          "",
        ].join("\n"),
      );
    });
}

/** A `keys api-create` option is invalid. */
export class ApiKeyOptionError extends BackstopError {
  override name = "ApiKeyOptionError";
  constructor(p: { problem: string }) {
    super("CLI__INVALID_API_KEY_OPTION", `${p.problem}.`);
  }
}
