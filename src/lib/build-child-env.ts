/**
 * Variables any child process may inherit: where programs and the user's files are, the temporary
 * directory, the locale and time zone, and the TLS trust settings an operator may need for a
 * private CA. None of them is a secret. Everything else (keys, webhook URLs, tokens, DATABASE_URL,
 * NODE_OPTIONS, which can load code) stays in Backstop's process unless passed by name.
 */
const INHERITED = ["PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TMP", "TEMP", "LANG", "LANGUAGE", "TZ", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"];
/** Locale categories (LC_ALL, LC_CTYPE, …). */
const INHERITED_PREFIX = "LC_";

/** What a child gets beyond the inherited basics. */
export type BuildChildEnvParameters = {
  /** Further variables to copy from the parent when set there, by name. */
  inherit?: readonly string[];
  /** Variables to set in the child; `undefined` values are left out. */
  set?: Readonly<Record<string, string | undefined>>;
};

/**
 * The environment for a child process: an explicit allow-list, never a copy of the parent's, so a
 * signing key or webhook secret in Backstop's environment cannot reach a child (or its crash dump,
 * its telemetry or its own children). Returns a new object; `parent` is not changed.
 */
export function buildChildEnv(parent: NodeJS.ProcessEnv, p: BuildChildEnvParameters = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const names = new Set([...INHERITED, ...(p.inherit ?? [])]);
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (names.has(name) || name.startsWith(INHERITED_PREFIX))) env[name] = value;
  }
  for (const [name, value] of Object.entries(p.set ?? {})) if (value !== undefined) env[name] = value;
  return env;
}
