import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BackstopError } from "../../lib/errors.js";

/** A running bcoin regtest node (in-memory chain, JSON-RPC on 127.0.0.1). */
export type BcoinNode = {
  /** JSON-RPC endpoint without credentials, e.g. http://127.0.0.1:41234/. */
  rpcUrl: string;
  /** Basic-auth user and password (bcoin checks only the password, which is the API key). */
  user: string;
  pass: string;
  /** rpcUrl with the credentials embedded (http://x:KEY@127.0.0.1:P/); a secret. */
  authUrl: string;
  httpPort: number;
  walletPort: number;
  /** Data directory (removed by stop()). */
  prefix: string;
  pid: number;
  /** The last ~4 000 characters the node printed (bcoin logs refusals it does not return over RPC). */
  output(): string;
  /** Kills the node (SIGTERM, then SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
};

export type StartBcoinParameters = {
  /** Give up if the RPC does not answer within this many ms. Default 60 000 (2-core machines are slow). */
  timeoutMs?: number;
  /** Run bcoin's wallet plugin too (default false: custody keys belong to the caller, not the node). */
  wallet?: boolean;
  /** Extra `--key=value` arguments. */
  args?: string[];
};

/** bcoin did not start or did not answer in time. */
export class BcoinStartError extends BackstopError {
  override name = "BcoinStartError";
  constructor(p: { reason: string; output?: string; cause?: unknown }) {
    super("DEVNET__BCOIN_START_FAILED", `bcoin regtest node did not start: ${p.reason}.`, {
      meta: p.output ? [`last output: ${p.output.slice(-800)}`] : [],
      cause: p.cause,
    });
  }
}

/**
 * Starts bcoin regtest as a child process on free loopback ports with a random API key and waits
 * until `getblockchaininfo` answers.
 * @throws BcoinStartError the process exited or the RPC never answered
 */
export async function startBcoin(p: StartBcoinParameters = {}): Promise<BcoinNode> {
  const timeoutMs = p.timeoutMs ?? 60_000;
  // A free port can be taken by another process between probe and bind: retry with new ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(p, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(p: StartBcoinParameters, timeoutMs: number): Promise<BcoinNode> {
  const [httpPort, walletPort] = (await freePorts(2)) as [number, number];
  const pass = randomBytes(16).toString("hex");
  const user = "x";
  const prefix = await mkdtemp(join(tmpdir(), "backstop-bcoin-"));
  const bin = join(dirname(createRequire(import.meta.url).resolve("bcoin/package.json")), "bin", "node");
  const args = [
    bin,
    "--network=regtest",
    "--memory=true",
    "--workers=false",
    "--listen=false",
    "--http-host=127.0.0.1",
    `--http-port=${httpPort}`,
    `--wallet-http-port=${walletPort}`,
    `--api-key=${pass}`,
    `--prefix=${prefix}`,
    "--log-level=warning",
    "--log-file=false",
    ...(p.wallet ? [] : ["--no-wallet=true"]),
    ...(p.args ?? []),
  ];
  // Only what node needs: bcoin also reads BCOIN_* variables, which must not leak into a test node.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: prefix };
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  // Never leave a node behind when the test process dies first.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const rpcUrl = `http://127.0.0.1:${httpPort}/`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    await killChild(child, exitPromise, () => exited);
    await rm(prefix, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new BcoinStartError({ reason: `process exited with code ${child.exitCode}`, output });
    }
    if (Date.now() > deadline) {
      await stop();
      throw new BcoinStartError({ reason: `no RPC answer within ${timeoutMs} ms`, output });
    }
    if (await answers(rpcUrl, user, pass)) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    rpcUrl,
    user,
    pass,
    authUrl: `http://${user}:${pass}@127.0.0.1:${httpPort}/`,
    httpPort,
    walletPort,
    prefix,
    pid: child.pid!,
    output: () => output,
    stop,
  };
}

async function answers(url: string, user: string, pass: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`,
      },
      body: JSON.stringify({ jsonrpc: "1.0", id: 1, method: "getblockchaininfo", params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: { chain?: string } };
    return body.result?.chain === "regtest";
  } catch {
    return false;
  }
}

async function killChild(child: ChildProcess, exitPromise: Promise<void>, exited: () => boolean): Promise<void> {
  if (exited()) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exitPromise;
  clearTimeout(timer);
}

/** Distinct free TCP ports on 127.0.0.1 (bound to port 0, then released). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
