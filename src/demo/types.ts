import type { AssetConfigInput, ChainConfigInput, WalletConfigInput } from "../lib/config.js";
import type { Logger } from "../lib/logger.js";

/** One chain family's share of the local demo: its local node(s), config and activity. */
export type DemoPart = {
  /** Name for messages ("bitcoin", "evm", "solana"). */
  name: string;
  chains: Record<string, ChainConfigInput>;
  assets: Record<string, AssetConfigInput>;
  /** The liability assets this part's chain assets back (`assets.<id>.backs`), with their decimals. */
  liabilityAssets: Record<string, { decimals: number }>;
  wallets: WalletConfigInput[];
  /**
   * Values of the environment references (`{ env: NAME }`) in this part's config: the demo writes
   * them to its env file (mode 0600), never into the config file. Names start with BACKSTOP_DEMO_.
   */
  secrets?: Record<string, string>;
  /**
   * The platform's own records of this part's deposits and withdrawals (the JSON of POST
   * /internal/v1/movements), appended by `activity`; the demo feeds and empties it each round.
   */
  movementRecords?: Record<string, string>[];
  /** One round of activity on the local node(s); step 0 is the scripted opening (deposits, withdrawals, a reorg...). */
  activity(p: { step: number }): Promise<string[]>;
  stop(): Promise<void>;
};

/** Starts a demo part; `dir` is the demo's scratch directory. */
export type StartDemoPart = (p: { dir: string; logger: Logger }) => Promise<DemoPart>;
