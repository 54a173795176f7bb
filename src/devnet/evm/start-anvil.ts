import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { buildChildEnv } from "../../lib/build-child-env.js";

/** A running anvil node on a loopback port. */
export type Anvil = {
  /** HTTP JSON-RPC URL, e.g. `http://127.0.0.1:41234`. */
  rpcUrl: string;
  port: number;
  chainId: number;
  pid: number;
  /** Stops the node (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
};

export type StartAnvilParameters = {
  /** EIP-155 chain id; default 31337. */
  chainId?: number;
  /** Seconds between automatic blocks; default: none (blocks only on transactions / anvil_mine). */
  blockTime?: number;
  /** Keep anvil from mining a block per transaction (mine with `evm_mine`); default false. */
  noMining?: boolean;
  /** Prefunded dev accounts; default 10. */
  accounts?: number;
  /** Genesis timestamp (unix s); fixed by default so the genesis hash is the same every run (chains/anvil.ts). */
  genesisTimestamp?: number;
  /** Milliseconds to wait for "Listening on"; default 20 000. */
  timeoutMs?: number;
  /**
   * Fork this node's chain at `blockNumber` (`--fork-url`): a real second node that has the same blocks up
   * to there and nothing after (a provider that lags), until it mines its own.
   */
  fork?: { url: string; blockNumber: number };
};

/** Path of the anvil binary shipped in `@foundry-rs/anvil-<platform>-<arch>`. @throws Error when missing. */
export function resolveAnvilBinary(): string {
  const require = createRequire(import.meta.url);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}/package.json`;
  return path.join(path.dirname(require.resolve(pkg)), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

/**
 * Starts anvil on 127.0.0.1 with a kernel-chosen free port (`--port 0`) and resolves when it listens.
 * @throws Error when anvil exits or does not listen in time.
 */
export async function startAnvil(p: StartAnvilParameters = {}): Promise<Anvil> {
  const chainId = p.chainId ?? 31337;
  const args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", String(chainId), "--accounts", String(p.accounts ?? 10), "--timestamp", String(p.genesisTimestamp ?? 1_700_000_000)];
  if (p.blockTime !== undefined) args.push("--block-time", String(p.blockTime));
  if (p.noMining) args.push("--no-mining");
  if (p.fork) args.push("--fork-url", p.fork.url, "--fork-block-number", String(p.fork.blockNumber));
  // A test/demo node needs nothing from Backstop's environment (and gets none of its secrets).
  const child: ChildProcess = spawn(resolveAnvilBinary(), args, { env: buildChildEnv(process.env), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`anvil did not start within ${p.timeoutMs ?? 20_000} ms: ${output.slice(-500)}`));
    }, p.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        // Stop buffering; anvil logs every request otherwise.
        child.stdout?.removeListener("data", onData);
        child.stdout?.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited early (code ${code}, signal ${signal}): ${output.slice(-500)}`));
    });
  });
  child.stderr?.resume();
  let stopped: Promise<void> | undefined;
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    pid: child.pid!,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 3_000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      });
      return stopped;
    },
  };
}
