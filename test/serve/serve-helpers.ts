// Shared by the serve tests: API keys in a config, a GraphQL client over real HTTP, the CLI as a child process.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { createApiKey, type NewApiKey } from "../../src/serve/api-keys.js";

const run = promisify(execFile);
const BIN = resolve("bin/backstop.js");

/** Keys for every access case: a reader (read + metrics), metrics only, alerts only, an expired and a revoked one. */
export function createTestKeys() {
  const mk = () => createApiKey();
  const keys = { reader: mk(), metrics: mk(), alertsOnly: mk(), expired: mk(), revoked: mk() };
  const config = [
    { name: "reader", hash: keys.reader.hash, scopes: ["read", "metrics"] },
    { name: "prometheus", hash: keys.metrics.hash, scopes: ["metrics"] },
    { name: "alerts-bot", hash: keys.alertsOnly.hash, scopes: ["alerts:write"] },
    { name: "old-tool", hash: keys.expired.hash, scopes: ["read"], expiresAt: "2020-01-01T00:00:00Z" },
    { name: "revoked-tool", hash: keys.revoked.hash, scopes: ["read"], revoked: true },
  ];
  return { keys, config } as { keys: Record<keyof typeof keys, NewApiKey>; config: typeof config };
}

export type GqlResult = { status: number; headers: Headers; body: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> } | any; text: string };

/** POSTs a GraphQL request (JSON) with a bearer key. */
export async function gql(url: string, key: string | undefined, query: string, variables?: Record<string, unknown>, init: { headers?: Record<string, string> } = {}): Promise<GqlResult> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Runs the backstop CLI; returns stdout. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const { stdout } = await run("node", [BIN, ...args], { env: { ...process.env, ...env, NODE_ENV: "test" }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
