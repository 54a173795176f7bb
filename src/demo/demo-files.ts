import { join, relative, resolve } from "node:path";

// Where the demo writes what it runs with, so every CLI command can be pointed at the demo's store.
// Import-light on purpose: the CLI reads these names to say where the demo's config is.

/** The demo's scratch directory, relative to the working directory of `npm start`. */
export const DEMO_DIR = ".backstop/demo";
/** The config the demo runs with (no secret in it: secrets are `{ "env": NAME }` references). */
export const DEMO_CONFIG_FILE = "backstop.config.json";
/** The demo's values for those references (mode 0600), beside the config. */
export const DEMO_ENV_FILE = "demo.env";

/** Paths of the demo's config and env file in `dir` (default DEMO_DIR), absolute. */
export function resolveDemoFiles(dir: string = DEMO_DIR): { dir: string; config: string; env: string } {
  const abs = resolve(dir);
  return { dir: abs, config: join(abs, DEMO_CONFIG_FILE), env: join(abs, DEMO_ENV_FILE) };
}

/**
 * The copy-pasteable command that runs `backstop <command>` against the demo's store, with paths
 * relative to the working directory when they are below it (absolute otherwise).
 */
export function buildDemoCliCommand(p: { dir?: string; command: string; cwd?: string }): string {
  const f = resolveDemoFiles(p.dir);
  const show = (path: string) => quoteArg(formatDisplayPath(path, p.cwd));
  return `npx backstop --config ${show(f.config)} --env-file ${show(f.env)} ${p.command}`;
}

/** A path as a person would type it: relative to `cwd` (default the working directory) when below it, else absolute. */
export function formatDisplayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !rel.startsWith("/") ? rel : path;
}

/** A shell word: as is when plain, else single-quoted. */
export function quoteArg(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
