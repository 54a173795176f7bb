import { postJsonRpc } from "../../lib/post-json-rpc.js";
import { RpcMethodError, RpcTransportError } from "../../lib/rpc-errors.js";
import { createRpcFailover } from "../../lib/rpc-failover.js";
import { parseBlockJson, type WatchedAddresses } from "./parse-block-json.js";
import { parseRpcJson } from "./parse-rpc-json.js";

/** JSON-RPC error codes a node uses for "not (yet) available here": retry, maybe on another provider. */
const RETRYABLE_CODES = new Set([-32004, -32005, -32014, -32016, -32009]);
/** Slot skipped: data, not a failure. */
export const SLOT_SKIPPED = -32007;

/** A token balance entry of `meta.pre/postTokenBalances`. Amount is a decimal string. */
export type RpcTokenBalance = { accountIndex: number; mint: string; owner?: string; programId?: string; uiTokenAmount: { amount: string; decimals: number } };
/** An account key as `transactionDetails: "accounts"` lists it: static keys first, then lookup-table ones. */
export type RpcAccountKey = { pubkey: string; signer: boolean; writable: boolean; source?: "transaction" | "lookupTable" };
/**
 * What the indexer reads of a transaction in a block: the `"accounts"` form (signatures and annotated
 * account keys, loaded addresses included) or the `"full"` `json` form (message keys plus
 * `meta.loadedAddresses`). Lamports and the fee are a number or a decimal string (exact).
 */
export type RpcBlockTransaction = {
  /** Position in the block; set when the client skipped transactions before parsing them. */
  index?: number;
  transaction: { signatures: string[]; accountKeys: RpcAccountKey[] } | { signatures: string[]; message: { accountKeys: string[] } };
  meta: {
    err: unknown;
    fee?: number | string;
    preBalances: (number | string)[];
    postBalances: (number | string)[];
    preTokenBalances?: RpcTokenBalance[] | null;
    postTokenBalances?: RpcTokenBalance[] | null;
    loadedAddresses?: { writable: string[]; readonly: string[] } | null;
  } | null;
};
export type RpcBlock = {
  blockhash: string;
  previousBlockhash: string;
  parentSlot: number;
  blockTime: number | null;
  blockHeight: number | null;
  transactions?: RpcBlockTransaction[];
  /** Transactions the client skipped before parsing because they name no custody address. */
  skippedTransactions?: number;
};
export type RpcAccount = { lamports: number | string; owner: string; data: [string, string]; executable: boolean };
export type WithContext<T> = { context: { slot: number }; value: T };

export type SolanaRpc = {
  call<T>(method: string, params?: unknown[]): Promise<T>;
  getGenesisHash(): Promise<string>;
  getSlot(commitment: "processed" | "confirmed" | "finalized"): Promise<number>;
  /** Produced slots in [from, to] at finalized commitment (skipped slots absent). */
  getBlocks(from: number, to: number): Promise<number[]>;
  /**
   * The finalized block at `slot` (`transactionDetails: "accounts"`: keys and pre/post balances only),
   * without the transactions that name no watched address; null when the slot was skipped (-32007).
   */
  getBlock(slot: number): Promise<RpcBlock | null>;
  /** The finalized block's header only (no transactions); null when skipped. */
  getBlockHeader(slot: number): Promise<RpcBlock | null>;
  getMultipleAccounts(keys: string[], minContextSlot?: number): Promise<WithContext<(RpcAccount | null)[]>>;
  getTokenAccountsByOwner(owner: string, mint: string, minContextSlot?: number): Promise<WithContext<{ pubkey: string; account: RpcAccount }[]>>;
};

export type CreateSolanaRpcParameters = {
  /** Chain key, for messages. */
  chain: string;
  /** Endpoints, tried in order (the URL may carry an API key: it never reaches a message). */
  urls: readonly string[];
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Attempts per call across all endpoints before RpcUnavailableError. Default 5. */
  attempts?: number;
  /** First backoff, ms (doubles, capped at 10 s). Default 200. */
  backoffMs?: number;
  /**
   * The custody owner addresses, read at each getBlock: a block's transactions that name none of
   * them are skipped before they are parsed (parseBlockJson). Default: every transaction is parsed.
   */
  watched?: () => WatchedAddresses;
};

/**
 * A Solana JSON-RPC client over fetch: per-request timeout, failover across endpoints with
 * exponential backoff for retryable failures, integers parsed exactly (u64 lamports > 2^53).
 * Errors name the method and host, never the URL's path or query (where keys live).
 */
export function createSolanaRpc(p: CreateSolanaRpcParameters): SolanaRpc {
  const endpoints = p.urls.map((url) => ({ url, host: new URL(url).host }));
  const failover = createRpcFailover({ chain: p.chain, endpoints, attempts: p.attempts ?? 5, backoffMs: p.backoffMs ?? 200 });
  let id = 0;

  async function once<T>(e: { url: string; host: string }, method: string, params: unknown[], parse: (text: string) => unknown): Promise<T> {
    const { status, body } = await postJsonRpc<T>({ chain: p.chain, endpoint: e, method, params, id: ++id, version: "2.0", timeoutMs: p.timeoutMs, parse });
    if (status === 429 || status >= 500) throw new RpcTransportError({ chain: p.chain, method, host: e.host, status, problem: `HTTP ${status}` });
    if (body.error) {
      throw new RpcMethodError({ chain: p.chain, method, host: e.host, rpcCode: Number(body.error.code), message: String(body.error.message), retryable: RETRYABLE_CODES.has(Number(body.error.code)) });
    }
    if (body.result === undefined) throw new RpcTransportError({ chain: p.chain, method, host: e.host, problem: "no result" });
    return body.result;
  }

  function call<T>(method: string, params: unknown[] = [], parse: (text: string) => unknown = parseRpcJson): Promise<T> {
    return failover.run(method, (e) => once<T>(e, method, params, parse));
  }

  async function block(slot: number, details: "accounts" | "none"): Promise<RpcBlock | null> {
    // "accounts" is the smallest answer that carries what the indexer reads (account keys, pre/post
    // SOL and token balances with owners, the fee): no instructions, logs or inner instructions.
    const watched = details === "accounts" ? p.watched?.() : undefined;
    const parse = watched ? (text: string) => parseBlockJson(text, { watched }) : parseRpcJson;
    try {
      const b = await call<RpcBlock | null>("getBlock", [slot, { commitment: "finalized", encoding: "json", transactionDetails: details, maxSupportedTransactionVersion: 0, rewards: false }], parse);
      // A null block for a listed slot is never "no activity" (TESTING.md B3).
      if (b === null) throw new RpcTransportError({ chain: p.chain, method: "getBlock", host: failover.preferred().host, problem: `null block for slot ${slot}` });
      return b;
    } catch (err) {
      if (err instanceof RpcMethodError && err.rpcCode === SLOT_SKIPPED) return null;
      throw err;
    }
  }

  return {
    call,
    getGenesisHash: () => call<string>("getGenesisHash"),
    getSlot: (commitment) => call<number>("getSlot", [{ commitment }]),
    getBlocks: (from, to) => call<number[]>("getBlocks", [from, to, { commitment: "finalized" }]),
    getBlock: (slot) => block(slot, "accounts"),
    getBlockHeader: (slot) => block(slot, "none"),
    getMultipleAccounts: (keys, minContextSlot) =>
      call("getMultipleAccounts", [keys, { commitment: "finalized", encoding: "base64", ...(minContextSlot !== undefined ? { minContextSlot } : {}) }]),
    getTokenAccountsByOwner: (owner, mint, minContextSlot) =>
      call("getTokenAccountsByOwner", [owner, { mint }, { commitment: "finalized", encoding: "base64", ...(minContextSlot !== undefined ? { minContextSlot } : {}) }]),
  };
}
