import { chmodSync, renameSync, writeFileSync } from "node:fs";
import type { ConfigInput } from "../lib/config.js";
import { formatEnvFile } from "../lib/load-env-file.js";
import { buildDemoCliCommand, resolveDemoFiles } from "./demo-files.js";

/** The demo's whole config input and the values of its environment references. */
export type SaveDemoConfigParameters = {
  /** The demo's directory (default DEMO_DIR). */
  dir?: string;
  /** The complete config the demo runs with; every secret in it is an `{ env: NAME }` reference. */
  input: ConfigInput;
  /** NAME → value for those references (written only to the env file). */
  secrets: Readonly<Record<string, string>>;
};

/**
 * Writes the demo's config (`backstop.config.json`, no secret in it) and its env file (`demo.env`,
 * mode 0600: the secrets, plus an empty DATABASE_URL so the CLI reads the demo's SQLite store even
 * when the shell points DATABASE_URL at a Postgres). Each file is written to a temporary name and
 * renamed, so a CLI started meanwhile reads a whole file or none; the env file comes first, so a
 * config on disk always has its values beside it. Returns the two absolute paths.
 * @throws RangeError when a secret's value appears in the config in the clear (a part forgot env())
 */
export function saveDemoConfig(p: SaveDemoConfigParameters): { config: string; env: string } {
  const files = resolveDemoFiles(p.dir);
  const configText = `${JSON.stringify(p.input, null, 2)}\n`;
  for (const [name, value] of Object.entries(p.secrets)) {
    if (value && configText.includes(value)) throw new RangeError(`the demo config holds the value of ${name} in the clear`);
  }
  const envText = formatEnvFile({
    header: [
      "The local demo's environment (written by `npm start`; recreated on every start). Secrets: keep it 0600.",
      `Use it with the demo's config (from where \`npm start\` ran): ${buildDemoCliCommand({ dir: p.dir, command: "<command>" })}`,
      "DATABASE_URL is empty on purpose: the demo's store is the SQLite file named in its config, even when",
      "your shell sets DATABASE_URL (values here are laid over the environment, for the config only).",
    ],
    values: { DATABASE_URL: "", ...p.secrets },
  });
  writeAtomic(files.env, envText, 0o600);
  writeAtomic(files.config, configText, 0o644);
  return { config: files.config, env: files.env };
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode); // `mode` applies only when the file is created, and is narrowed by the umask
  renameSync(tmp, path);
}
