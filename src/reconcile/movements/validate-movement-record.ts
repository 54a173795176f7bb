import { address as bitcoinAddress } from "bitcoinjs-lib";
import { isAddress } from "viem";
import { computeCounterparty } from "../../chains/bitcoin/compute-bitcoin-transfers.js";
import { addressToScript } from "../../chains/bitcoin/address-to-script.js";
import { validateSolanaAddress } from "../../chains/solana/validate-solana-address.js";
import type { ChainKind } from "../../lib/chain.js";
import type { ErrorCode } from "../../lib/errors.js";
import { SnapshotFormatError } from "../../liabilities/errors.js";
import { parseAmount } from "../../liabilities/parse-snapshot.js";
import type { MovementRecordProblem } from "./errors.js";
import { MOVEMENT_KINDS, type MovementKind, type MovementRecord } from "./movement-types.js";

/** The record's fields, by name, in the CSV header order the docs show. */
export const MOVEMENT_FIELDS = ["id", "kind", "chain", "asset", "amount", "counterparty", "txid", "time"] as const;
export type MovementField = (typeof MOVEMENT_FIELDS)[number];

/** What validation needs of the config: chain kinds (and Bitcoin networks), assets with their chain and decimals, the clock. */
export type MovementValidationContext = {
  chains: Readonly<Record<string, { kind: ChainKind; network?: "mainnet" | "testnet" | "regtest" | "signet" }>>;
  assets: Readonly<Record<string, { chain: string; decimals: number }>>;
  nowMs: number;
  /** The chains reconciled against records (`movements.chains`); absent: every chain of `chains`. */
  reconciled?: readonly string[];
};

/** Builds the validation context from a resolved config. */
export function createMovementValidationContext(config: {
  chains: Record<string, { descriptor: { kind: ChainKind; network?: "mainnet" | "testnet" | "regtest" | "signet" } }>;
  assets: Record<string, { chain: string; decimals: number }>;
  movements?: { chains?: readonly string[] };
}, nowMs: number): MovementValidationContext {
  return {
    ...(config.movements?.chains ? { reconciled: config.movements.chains } : {}),
    chains: Object.fromEntries(Object.entries(config.chains).map(([k, c]) => [k, { kind: c.descriptor.kind, network: c.descriptor.network }])),
    assets: Object.fromEntries(Object.entries(config.assets).map(([k, a]) => [k, { chain: a.chain, decimals: a.decimals }])),
    nowMs,
  };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:\-/]{0,127}$/;
// C0 controls except TAB, and DEL (TAB stays verbatim: formula-injection strings are data, escaped on export).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const NON_DATA_ID = /^\s*(grand[\s_-]*)?(sub[\s_-]*)?totals?\s*:?\s*$|^\s*(sum|summe|gesamt)\s*:?\s*$/i;
/** ISO-8601 / RFC 3339 with an explicit offset (TESTING.md H3: a time without a zone is refused). */
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Records may be a little ahead of this server's clock; beyond this they are refused (H3, H4). */
const FUTURE_LEEWAY_MS = 5 * 60_000;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** Position of a field for problems: CSV column or JSON field name. */
export type FieldLocator = (field: MovementField) => { row?: number; index?: number; column?: number; field: string };

/**
 * Validates one record's raw string fields (null: absent or empty) and normalises it, or returns its
 * problems (every bad field, not only the first). Pure.
 */
export function validateMovementRecord(
  ctx: MovementValidationContext,
  raw: Readonly<Record<MovementField, string | null>>,
  at: FieldLocator,
): { record: MovementRecord; problems?: undefined } | { record?: undefined; problems: MovementRecordProblem[] } {
  const problems: MovementRecordProblem[] = [];
  const bad = (field: MovementField, code: ErrorCode, message: string) => problems.push({ ...at(field), code, message });
  for (const f of MOVEMENT_FIELDS) {
    const v = raw[f];
    if (v !== null && CONTROL.test(v)) bad(f, "MOVEMENTS__CONTROL_CHARACTER", "Control character or line break inside a field");
  }
  if (problems.length) return { problems };

  const id = raw.id;
  if (id === null || id.trim() === "") bad("id", "MOVEMENTS__EMPTY_FIELD", "Empty id");
  else if (NON_DATA_ID.test(id)) bad("id", "MOVEMENTS__NON_DATA_ROW", "Non-data row (total or subtotal)");
  else if (!ID.test(id)) bad("id", "MOVEMENTS__INVALID_ID", "Record id must match [A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");

  const kind = raw.kind;
  if (kind === null) bad("kind", "MOVEMENTS__EMPTY_FIELD", "Empty kind");
  else if (!(MOVEMENT_KINDS as readonly string[]).includes(kind)) bad("kind", "MOVEMENTS__INVALID_KIND", `Kind must be one of ${MOVEMENT_KINDS.join(", ")}`);

  const chainKey = raw.chain;
  const chain = chainKey === null ? undefined : ctx.chains[chainKey];
  if (chainKey === null) bad("chain", "MOVEMENTS__EMPTY_FIELD", "Empty chain");
  else if (!chain) bad("chain", "MOVEMENTS__UNKNOWN_CHAIN", `Unknown chain (configured: ${Object.keys(ctx.chains).sort().join(", ")})`);
  else if (ctx.reconciled && !ctx.reconciled.includes(chainKey)) bad("chain", "MOVEMENTS__CHAIN_NOT_RECONCILED", `Chain "${chainKey}" is not reconciled against records (movements.chains: ${[...ctx.reconciled].sort().join(", ")})`);

  const assetId = raw.asset;
  const asset = assetId === null ? undefined : ctx.assets[assetId];
  if (assetId === null) bad("asset", "MOVEMENTS__EMPTY_FIELD", "Empty asset");
  else if (!asset) bad("asset", "MOVEMENTS__UNKNOWN_ASSET", `Unknown asset (configured: ${Object.keys(ctx.assets).sort().join(", ")})`);
  else if (chainKey !== null && chain && asset.chain !== chainKey) bad("asset", "MOVEMENTS__ASSET_CHAIN_MISMATCH", `Asset is on chain ${asset.chain}, not ${chainKey}`);

  let amount: bigint | undefined;
  if (raw.amount === null) bad("amount", "MOVEMENTS__EMPTY_AMOUNT", "Empty amount");
  else if (asset) {
    try {
      const pos = at("amount");
      amount = parseAmount(raw.amount, asset.decimals, assetId!, { row: pos.row ?? (pos.index ?? 0) + 1, column: pos.column, columnName: "amount" });
      if (amount === 0n) {
        bad("amount", "MOVEMENTS__ZERO_AMOUNT", "Amount is zero (a movement moves something)");
        amount = undefined;
      }
    } catch (err) {
      if (!(err instanceof SnapshotFormatError)) throw err;
      // The liabilities grammar, with this domain's codes (one strict amount parser for every file Backstop reads).
      bad("amount", err.code.replace("LIABILITIES__", "MOVEMENTS__") as ErrorCode, err.shortMessage.replace(/ at row .*$/, ""));
    }
  }

  let counterparty: string | null = null;
  if (raw.counterparty !== null && chain) {
    const c = normaliseAddress(chain, raw.counterparty);
    if (c.error) bad("counterparty", "MOVEMENTS__INVALID_ADDRESS", c.error);
    else counterparty = c.value!;
  } else if (raw.counterparty === null && kind !== null && kind !== "deposit") {
    bad("counterparty", "MOVEMENTS__EMPTY_FIELD", `A ${kind} record names its counterparty (the destination address)`);
  }

  let txid: string | null = null;
  if (raw.txid !== null && chain) {
    const t = normaliseTxid(chain.kind, raw.txid);
    if (t === null) bad("txid", "MOVEMENTS__INVALID_TXID", `Not a ${chain.kind} transaction id (${TXID_FORMS[chain.kind]})`);
    else txid = t;
  }

  let timeMs: number | undefined;
  if (raw.time === null) bad("time", "MOVEMENTS__EMPTY_FIELD", "Empty time");
  else {
    const t = parseTime(raw.time);
    if (t === null) bad("time", "MOVEMENTS__INVALID_TIME", "Time must be ISO-8601 with an explicit offset, e.g. 2026-01-31T23:59:59Z");
    else if (t > ctx.nowMs + FUTURE_LEEWAY_MS) bad("time", "MOVEMENTS__TIME_IN_FUTURE", "Time is in the future");
    else timeMs = t;
  }

  if (problems.length) return { problems };
  return { record: { id: id!, kind: kind as MovementKind, chain: chainKey!, asset: assetId!, amount: amount!, counterparty, txid, timeMs: timeMs! } };
}

const TXID_FORMS: Record<ChainKind, string> = {
  bitcoin: "64 hex digits",
  evm: "0x and 64 hex digits",
  solana: "a base58 signature of 64 bytes",
};

/** The chain's canonical transaction id, or null when the text is not one. */
export function normaliseTxid(kind: ChainKind, text: string): string | null {
  if (kind === "bitcoin") return /^[0-9a-fA-F]{64}$/.test(text) ? text.toLowerCase() : null;
  if (kind === "evm") return /^0x[0-9a-fA-F]{64}$/.test(text) ? text.toLowerCase() : null;
  return BASE58.test(text) && text.length >= 64 && text.length <= 88 && base58Length(text) === 64 ? text : null;
}

function base58Length(text: string): number {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  let n = 0n;
  for (const c of text) n = n * 58n + BigInt("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".indexOf(c));
  return zeros + (n === 0n ? 0 : Math.ceil(n.toString(16).length / 2));
}

/** The counterparty in the form the chain's transfer legs use, or why it is not an address of the chain. */
export function normaliseAddress(chain: { kind: ChainKind; network?: "mainnet" | "testnet" | "regtest" | "signet" }, text: string): { value: string; error?: undefined } | { value?: undefined; error: string } {
  if (chain.kind === "bitcoin") {
    const fast = normaliseBitcoinFast(text, chain.network ?? "mainnet");
    if (fast !== null) return { value: fast };
    try {
      const network = chain.network ?? "mainnet";
      return { value: computeCounterparty(addressToScript(text, network).scriptHex, network) };
    } catch (err) {
      return { error: `Not a Bitcoin ${chain.network ?? "mainnet"} address (${(err as { code?: string }).code ?? "invalid"})` };
    }
  }
  if (chain.kind === "evm") {
    if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return { error: "Not an EVM address (0x and 40 hex digits)" };
    // Mixed case is an EIP-55 checksum and must be right (a typo otherwise); all-lower or all-upper carries none.
    if (!isAddress(text, { strict: true })) return { error: "EVM address with a wrong EIP-55 checksum" };
    return { value: text.toLowerCase() };
  }
  // The canonical base58 of exactly 32 bytes (what validateSolanaAddress checks, without a PublicKey per record).
  return /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(text) && base58Length(text) === 32 && (text.length > 32 || validateSolanaAddress(text) === null)
    ? { value: text }
    : { error: "Not a 32-byte base58 Solana address" };
}

const HRP: Record<string, string> = { mainnet: "bc", testnet: "tb", signet: "tb", regtest: "bcrt" };

/**
 * The common forms without building a script (bitcoinjs' toOutputScript costs ~200 µs an address): a
 * single-case bech32/bech32m v0 (20 or 32 bytes) or v1 (32 bytes) address of the network, whose canonical
 * form is lowercase. Null for anything else: the full check (addressToScript) decides and explains.
 */
function normaliseBitcoinFast(text: string, network: string): string | null {
  const lower = text.toLowerCase();
  if ((text !== lower && text !== text.toUpperCase()) || !lower.startsWith(`${HRP[network]}1`)) return null;
  try {
    const d = bitcoinAddress.fromBech32(lower);
    if (d.prefix !== HRP[network]) return null;
    if ((d.version === 0 && (d.data.length === 20 || d.data.length === 32)) || (d.version === 1 && d.data.length === 32)) {
      // fromBech32 accepts either checksum constant; BIP-350: v0 is bech32, v1+ bech32m.
      const canonical = bitcoinAddress.toBech32(d.data, d.version, d.prefix);
      return canonical === lower ? canonical : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** Unix ms of an ISO-8601 time with an explicit offset; null when it is not one (or not a real date). */
export function parseTime(text: string): number | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2026-02-31 over to March: refuse dates that do not exist.
  const day = new Date(Date.UTC(y!, mo! - 1, d!));
  if (day.getUTCMonth() !== mo! - 1) return null;
  return ms;
}
