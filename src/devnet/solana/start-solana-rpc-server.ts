import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PublicKey, VersionedTransaction } from "@solana/web3.js";
import {
  SolanaChainTxError,
  TOKEN_2022_PROGRAM,
  TOKEN_PROGRAM,
  parseTokenAccount,
  uiTokenAmount,
  type AccountSnapshot,
  type ChainTransaction,
  type Commitment,
  type SolanaChain,
} from "./create-solana-chain.js";
import { decodeBase58, encodeBase58 } from "./base58.js";
import { stringifyRpcJson } from "./stringify-rpc-json.js";

/** A JSON-RPC error with a Solana error code (-32007 skipped slot, -32004 block not available...). */
export class RpcMethodError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** Version the simulator reports in `getVersion` and `context.apiVersion`. */
const API_VERSION = "2.1.21";
/** Cap on `getBlocks` ranges, as on a validator (MAX_GET_CONFIRMED_BLOCKS_RANGE). */
const MAX_BLOCKS_RANGE = 500_000;
/** BPFLoaderUpgradeab1e…: when a message names it, invoked program ids keep their write lock. */
const UPGRADEABLE_LOADER = "BPFLoaderUpgradeab1e11111111111111111111111";
/**
 * Reserved account keys (agave's ReservedAccountKeys, every one activated, as the RPC uses them to
 * describe accounts): builtin programs, sysvars and the native loader. They are never write-locked,
 * so `transactionDetails: "accounts"` reports them `writable: false` whatever the header says.
 */
const RESERVED_ACCOUNT_KEYS = new Set([
  "AddressLookupTab1e1111111111111111111111111", "BPFLoader2111111111111111111111111111111111", "BPFLoader1111111111111111111111111111111111",
  UPGRADEABLE_LOADER, "ComputeBudget111111111111111111111111111111", "Config1111111111111111111111111111111111111",
  "Ed25519SigVerify111111111111111111111111111", "Feature111111111111111111111111111111111111", "LoaderV411111111111111111111111111111111111",
  "KeccakSecp256k11111111111111111111111111111", "StakeConfig11111111111111111111111111111111", "Stake11111111111111111111111111111111111111",
  "11111111111111111111111111111111", "Vote111111111111111111111111111111111111111", "ZkE1Gama1Proof11111111111111111111111111111",
  "ZkTokenProof1111111111111111111111111111111", "SysvarC1ock11111111111111111111111111111111", "SysvarEpochRewards1111111111111111111111111",
  "SysvarEpochSchedu1e111111111111111111111111", "SysvarFees111111111111111111111111111111111", "Sysvar1nstructions1111111111111111111111111",
  "SysvarLastRestartS1ot1111111111111111111111", "SysvarRecentB1ockHashes11111111111111111111", "SysvarRent111111111111111111111111111111111",
  "SysvarRewards111111111111111111111111111111", "SysvarS1otHashes111111111111111111111111111", "SysvarS1otHistory11111111111111111111111111",
  "SysvarStakeHistory1111111111111111111111111", "NativeLoader1111111111111111111111111111111", "Sysvar1111111111111111111111111111111111111",
]);

type MessageJson = {
  accountKeys: string[];
  header: { numRequiredSignatures: number; numReadonlySignedAccounts: number; numReadonlyUnsignedAccounts: number };
  instructions: { programIdIndex: number }[];
};

/**
 * The `transactionDetails: "accounts"` form of a transaction, as agave builds it (transaction-status
 * `build_json_accounts`): the signatures and every account key with its signer and writable flags and
 * source (static keys, then lookup-table ones), and the simple meta: status, fee, pre/post SOL and
 * token balances, rewards only when asked for. No instructions, logs, inner instructions or loaded
 * addresses (the loaded keys are in the list instead).
 */
function accountsJson(t: ChainTransaction, showRewards: boolean): Record<string, unknown> {
  const message = t.transaction.message as MessageJson;
  const { header } = message;
  const loaded = [...t.meta.loadedAddresses.writable, ...t.meta.loadedAddresses.readonly];
  const keys = [...message.accountKeys, ...loaded];
  const statics = message.accountKeys.length;
  const invoked = new Set(message.instructions.map((ix) => ix.programIdIndex));
  const upgradeableLoaderPresent = keys.includes(UPGRADEABLE_LOADER);
  const writableIndex = (i: number) => {
    if (i >= statics) return i - statics < t.meta.loadedAddresses.writable.length;
    if (i < header.numRequiredSignatures) return i < header.numRequiredSignatures - header.numReadonlySignedAccounts;
    return i < statics - header.numReadonlyUnsignedAccounts;
  };
  const accountKeys = keys.map((pubkey, i) => ({
    pubkey,
    signer: i < header.numRequiredSignatures,
    source: i < statics ? "transaction" : "lookupTable",
    // Message::is_maybe_writable: writable in the header, not reserved, not a demoted program id.
    writable: writableIndex(i) && !RESERVED_ACCOUNT_KEYS.has(pubkey) && !(invoked.has(i) && !upgradeableLoaderPresent),
  }));
  const m = t.meta;
  const meta: Record<string, unknown> = { err: m.err, fee: m.fee, postBalances: m.postBalances, postTokenBalances: m.postTokenBalances, preBalances: m.preBalances, preTokenBalances: m.preTokenBalances };
  if (showRewards) meta.rewards = m.rewards;
  meta.status = m.status;
  return { meta, transaction: { accountKeys, signatures: (t.transaction as { signatures: string[] }).signatures } };
}

export type SolanaRpcServer = {
  url: string;
  /** Requests served per method since start (batch entries count one each). */
  calls: Map<string, number>;
  /** Total of `calls`. */
  totalCalls(): number;
  close(): Promise<void>;
};

type Params = unknown[];
type Config = {
  commitment?: Commitment;
  encoding?: string;
  transactionDetails?: string;
  maxSupportedTransactionVersion?: number;
  rewards?: boolean;
  minContextSlot?: number;
  limit?: number;
  before?: string;
  until?: string;
  skipPreflight?: boolean;
};

function invalidParams(message: string): RpcMethodError {
  return new RpcMethodError(-32602, message);
}

/**
 * Serves the Solana JSON-RPC methods an indexer and @solana/web3.js use, over real HTTP on
 * 127.0.0.1 (port 0 = a free port), answering from `chain` with the documented shapes and codes.
 */
export async function startSolanaRpcServer(chain: SolanaChain, p: { port?: number } = {}): Promise<SolanaRpcServer> {
  const calls = new Map<string, number>();

  function commitmentSlot(cfg: Config | undefined): number {
    const slot = chain.slotOf(cfg?.commitment ?? "finalized");
    if (cfg?.minContextSlot !== undefined && slot < cfg.minContextSlot)
      throw new RpcMethodError(-32016, "Minimum context slot has not been reached", { contextSlot: slot });
    return slot;
  }

  function context(slot: number) {
    return { apiVersion: API_VERSION, slot };
  }

  function pubkey(v: unknown, what = "pubkey"): string {
    if (typeof v !== "string") throw invalidParams(`Invalid param: ${what} must be a base-58 string`);
    let ok = false;
    try {
      ok = new PublicKey(v).toBase58() === v;
    } catch {
      ok = false;
    }
    if (!ok) throw invalidParams("Invalid param: Invalid");
    return v;
  }

  function accountJson(s: AccountSnapshot, encoding = "base64") {
    const base = { executable: s.executable, lamports: s.lamports, owner: s.owner, rentEpoch: 18446744073709551615n, space: s.data.length };
    if (encoding === "jsonParsed") {
      const t = parseTokenAccount(s);
      const decimals = t ? chain.decimalsOf(t.mint) : undefined;
      if (t && decimals !== undefined) {
        return {
          ...base,
          data: {
            program: t.programId === TOKEN_PROGRAM ? "spl-token" : "spl-token-2022",
            parsed: { info: { isNative: false, mint: t.mint, owner: t.owner, state: "initialized", tokenAmount: uiTokenAmount(t.amount, decimals) }, type: "account" },
            space: s.data.length,
          },
        };
      }
      encoding = "base64";
    }
    if (encoding === "base58") return { ...base, data: [encodeBase58(s.data), "base58"] };
    if (encoding !== "base64") throw invalidParams(`Invalid param: unsupported encoding ${encoding}`);
    return { ...base, data: [Buffer.from(s.data).toString("base64"), "base64"] };
  }

  function txJson(t: ChainTransaction, cfg: Config | undefined, details: "full" | "accounts" = "full") {
    const max = cfg?.maxSupportedTransactionVersion;
    if (t.version === 0 && max === undefined)
      throw new RpcMethodError(
        -32015,
        'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
      );
    // Without rewards the node writes the meta's rewards as null (agave: OptionSerializer::None).
    const out: Record<string, unknown> =
      details === "accounts" ? accountsJson(t, cfg?.rewards !== false) : { meta: cfg?.rewards === false ? { ...t.meta, rewards: null } : t.meta, transaction: t.transaction };
    if (max !== undefined) out.version = t.version;
    return out;
  }

  function blockForRead(slot: number, cfg: Config | undefined) {
    const commitment = cfg?.commitment ?? "finalized";
    if (commitment === "processed") throw invalidParams("Method does not support commitment below `confirmed`");
    const limit = chain.slotOf(commitment);
    if (slot > limit) throw new RpcMethodError(-32004, `Block not available for slot ${slot}`);
    const b = chain.blocks.get(slot);
    if (!b) throw new RpcMethodError(-32007, `Slot ${slot} was skipped, or missing due to ledger jump to recent snapshot`);
    return b;
  }

  const methods: Record<string, (params: Params) => unknown> = {
    getHealth: () => "ok",
    getVersion: () => ({ "solana-core": API_VERSION, "feature-set": 3294202862 }),
    getGenesisHash: () => chain.genesisHash,
    getIdentity: () => ({ identity: chain.faucet.publicKey.toBase58() }),
    getSlot: ([cfg]) => commitmentSlot(cfg as Config),
    getBlockHeight: ([cfg]) => chain.blocks.get(commitmentSlot(cfg as Config))!.blockHeight,
    getEpochInfo: ([cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      return { absoluteSlot: slot, blockHeight: chain.blocks.get(slot)!.blockHeight, epoch: 0, slotIndex: slot, slotsInEpoch: 432000, transactionCount: chain.signatures.size };
    },
    getLatestBlockhash: ([cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      const b = chain.blocks.get(slot)!;
      return { context: context(slot), value: { blockhash: b.blockhash, lastValidBlockHeight: b.blockHeight + 150 } };
    },
    isBlockhashValid: ([hash, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      return { context: context(slot), value: chain.recentBlockhashes.has(String(hash)) };
    },
    getMinimumBalanceForRentExemption: ([len]) => chain.svm.minimumBalanceForRentExemption(BigInt(Number(len ?? 0))),
    getFeeForMessage: ([, cfg]) => ({ context: context(commitmentSlot(cfg as Config)), value: 5000 }),
    getBalance: ([key, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      return { context: context(slot), value: chain.accountAt(pubkey(key), slot)?.lamports ?? 0n };
    },
    getAccountInfo: ([key, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      const s = chain.accountAt(pubkey(key), slot);
      return { context: context(slot), value: s && s.lamports > 0n ? accountJson(s, (cfg as Config)?.encoding) : null };
    },
    getMultipleAccounts: ([keys, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      if (!Array.isArray(keys) || keys.length > 100) throw invalidParams("Too many inputs provided; max 100");
      return {
        context: context(slot),
        value: keys.map((k) => {
          const s = chain.accountAt(pubkey(k), slot);
          return s && s.lamports > 0n ? accountJson(s, (cfg as Config)?.encoding) : null;
        }),
      };
    },
    getTokenAccountBalance: ([key, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      const t = parseTokenAccount(chain.accountAt(pubkey(key), slot));
      const decimals = t ? chain.decimalsOf(t.mint) : undefined;
      if (!t || decimals === undefined) throw invalidParams("Invalid param: not a Token account");
      return { context: context(slot), value: uiTokenAmount(t.amount, decimals) };
    },
    getTokenAccountsByOwner: ([owner, filter, cfg]) => {
      const slot = commitmentSlot(cfg as Config);
      const f = (filter ?? {}) as { mint?: string; programId?: string };
      if (f.programId !== undefined && f.programId !== TOKEN_PROGRAM && f.programId !== TOKEN_2022_PROGRAM)
        throw invalidParams("Invalid param: unrecognized Token program id");
      if (f.mint !== undefined) pubkey(f.mint, "mint");
      if (f.mint === undefined && f.programId === undefined) throw invalidParams("Invalid param: filter must be mint or programId");
      const list = chain.tokenAccountsByOwner(pubkey(owner), slot, f);
      return { context: context(slot), value: list.map((a) => ({ pubkey: a.pubkey, account: accountJson(a.state, (cfg as Config)?.encoding) })) };
    },
    getBlock: ([slot, cfg]) => {
      const c = (typeof cfg === "string" ? { encoding: cfg } : cfg) as Config | undefined;
      if (c?.encoding && c.encoding !== "json") throw invalidParams(`Invalid param: this test chain serves encoding "json" only`);
      const b = blockForRead(Number(slot), c);
      const details = c?.transactionDetails ?? "full";
      const out: Record<string, unknown> = {
        blockHeight: b.blockHeight,
        blockTime: b.blockTime,
        blockhash: b.blockhash,
        parentSlot: b.parentSlot,
        previousBlockhash: b.previousBlockhash,
      };
      if (details === "full" || details === "accounts") out.transactions = b.transactions.map((t) => txJson(t, c, details));
      else if (details === "signatures") out.signatures = b.transactions.map((t) => t.signature);
      else if (details !== "none") throw invalidParams(`Invalid param: transactionDetails ${details}`);
      if (c?.rewards !== false) out.rewards = [];
      return out;
    },
    getBlocks: ([start, endOrCfg, maybeCfg]) => {
      const cfg = (typeof endOrCfg === "object" ? endOrCfg : maybeCfg) as Config | undefined;
      const limit = commitmentSlot(cfg);
      const from = Number(start);
      const to = Math.min(typeof endOrCfg === "number" ? endOrCfg : limit, limit);
      if (to - from > MAX_BLOCKS_RANGE) throw invalidParams(`Slot range too large; max ${MAX_BLOCKS_RANGE}`);
      return chain.canonical.filter((s) => s >= from && s <= to);
    },
    getBlocksWithLimit: ([start, n, cfg]) => {
      const limit = commitmentSlot(cfg as Config);
      return chain.canonical.filter((s) => s >= Number(start) && s <= limit).slice(0, Number(n));
    },
    getBlockTime: ([slot]) => {
      const b = blockForRead(Number(slot), { commitment: "confirmed" });
      return b.blockTime;
    },
    getSignaturesForAddress: ([key, cfg]) => {
      const c = (cfg ?? {}) as Config;
      if (c.commitment === "processed") throw invalidParams("Method does not support commitment below `confirmed`");
      const slot = commitmentSlot(c);
      const limit = Math.min(c.limit ?? 1000, 1000);
      const list = chain.byAddress.get(pubkey(key, "address")) ?? [];
      const out: unknown[] = [];
      let started = c.before === undefined;
      for (let i = list.length - 1; i >= 0 && out.length < limit; i--) {
        const e = list[i]!;
        if (e.signature === c.until) break;
        if (!started) {
          if (e.signature === c.before) started = true;
          continue;
        }
        if (e.slot > slot) continue;
        const t = chain.signatures.get(e.signature)!;
        out.push({
          signature: e.signature,
          slot: e.slot,
          err: t.meta.err,
          memo: null,
          blockTime: chain.blocks.get(e.slot)!.blockTime,
          confirmationStatus: e.slot <= chain.slotOf("finalized") ? "finalized" : "confirmed",
        });
      }
      return out;
    },
    getTransaction: ([sig, cfg]) => {
      const c = (typeof cfg === "string" ? { encoding: cfg } : cfg) as Config | undefined;
      if (c?.commitment === "processed") throw invalidParams("Method does not support commitment below `confirmed`");
      const t = chain.signatures.get(String(sig));
      if (!t || t.slot > chain.slotOf(c?.commitment ?? "finalized")) return null;
      return { slot: t.slot, blockTime: chain.blocks.get(t.slot)!.blockTime, ...txJson(t, c) };
    },
    getSignatureStatuses: ([sigs]) => {
      const processed = chain.slotOf("processed");
      return {
        context: context(processed),
        value: (sigs as string[]).map((s) => {
          const t = chain.signatures.get(s);
          if (!t || !chain.blocks.has(t.slot)) return null;
          const status = t.slot <= chain.slotOf("finalized") ? "finalized" : t.slot <= chain.slotOf("confirmed") ? "confirmed" : "processed";
          return {
            slot: t.slot,
            confirmations: status === "finalized" ? null : chain.canonical.length - 1 - chain.canonical.indexOf(t.slot),
            err: t.meta.err,
            status: t.meta.status,
            confirmationStatus: status,
          };
        }),
      };
    },
    sendTransaction: ([data, cfg]) => {
      const c = (cfg ?? {}) as Config;
      const bytes = c.encoding === "base64" ? Buffer.from(String(data), "base64") : decodeBase58(String(data));
      let tx: VersionedTransaction;
      try {
        tx = VersionedTransaction.deserialize(bytes);
      } catch (e) {
        throw invalidParams(`invalid transaction: ${(e as Error).message}`);
      }
      try {
        return chain.sendTransaction(tx, { skipPreflight: c.skipPreflight }).signature;
      } catch (e) {
        if (!(e instanceof SolanaChainTxError)) throw e;
        const errText = typeof e.err === "string" ? e.err : JSON.stringify(e.err);
        return Promise.reject(
          new RpcMethodError(-32002, e.reason === "Transaction simulation failed" ? `Transaction simulation failed: ${errText}` : `Transaction simulation failed: ${e.reason}`, {
            accounts: null,
            err: e.err,
            logs: e.logs,
            returnData: null,
            unitsConsumed: 0,
          }),
        );
      }
    },
    requestAirdrop: ([key, lamports]) => chain.airdrop(pubkey(key), BigInt(Number(lamports))),
  };

  async function handleOne(req: unknown): Promise<unknown> {
    const r = req as { id?: unknown; method?: unknown; params?: unknown; jsonrpc?: unknown };
    const id = r && typeof r === "object" && "id" in r ? r.id : null;
    if (!r || typeof r !== "object" || r.jsonrpc !== "2.0" || typeof r.method !== "string")
      return { jsonrpc: "2.0", error: { code: -32600, message: "Invalid request" }, id };
    calls.set(r.method, (calls.get(r.method) ?? 0) + 1);
    const fn = methods[r.method];
    if (!fn) return { jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id };
    try {
      const result = await fn(Array.isArray(r.params) ? r.params : []);
      return { jsonrpc: "2.0", result, id };
    } catch (e) {
      if (e instanceof RpcMethodError) {
        const error: Record<string, unknown> = { code: e.code, message: e.message };
        if (e.data !== undefined) error.data = e.data;
        return { jsonrpc: "2.0", error, id };
      }
      return { jsonrpc: "2.0", error: { code: -32603, message: `Internal error: ${(e as Error).message}` }, id };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(stringifyRpcJson({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null }));
      return;
    }
    const out = Array.isArray(body) ? await Promise.all(body.map(handleOne)) : await handleOne(body);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(stringifyRpcJson(out));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
