import { createSolanaChain, type SolanaChain, type SolanaChainOptions } from "./create-solana-chain.js";
import { startSolanaRpcServer, type SolanaRpcServer } from "./start-solana-rpc-server.js";

export type SolanaDevnetOptions = SolanaChainOptions & {
  /** Produce a slot every slotMs automatically (default false: the caller ticks). */
  autoTick?: boolean;
  /** Probability that a produced slot is followed by a skipped slot (default 0). */
  skipRate?: number;
  /** Deterministic randomness for skips (default Math.random). */
  random?: () => number;
};

export type SolanaDevnet = { chain: SolanaChain; rpc: SolanaRpcServer; url: string; stop(): Promise<void> };

/** Starts a LiteSVM-backed Solana chain with its JSON-RPC server on 127.0.0.1 (free port). */
export async function startSolanaDevnet(options: SolanaDevnetOptions = {}): Promise<SolanaDevnet> {
  const chain = createSolanaChain(options);
  const rpc = await startSolanaRpcServer(chain);
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  if (options.autoTick) {
    timer = setInterval(() => {
      chain.tick({ skip: random() < (options.skipRate ?? 0) ? 1 : 0 });
    }, options.slotMs ?? 400);
  }
  return {
    chain,
    rpc,
    url: rpc.url,
    async stop() {
      if (timer) clearInterval(timer);
      await rpc.close();
    },
  };
}
