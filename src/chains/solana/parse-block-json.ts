import { parseRpcJson } from "./parse-rpc-json.js";

/** Anything that answers "is this address a custody owner?" (a Set or the indexer's owner map). */
export type WatchedAddresses = { has(address: string): boolean };

/** Options of parseBlockJson. */
export type ParseBlockJsonParameters = {
  /** Custody owner addresses: a transaction that names none of them is skipped, never parsed. */
  watched: WatchedAddresses;
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** A base58-encoded 32-byte key is 32 to 44 characters long. */
const MIN_ADDRESS = 32;
const MAX_ADDRESS = 44;
/** The longest raw string that can unescape to an address: every character as a 6-character \uXXXX escape. */
const MAX_ESCAPED = MAX_ADDRESS * 6;

/** Thrown for text that is not the JSON it should be; the RPC client reports it as invalid JSON (retryable). */
class BlockJsonError extends SyntaxError {
  override name = "BlockJsonError";
}

/**
 * Parses a `getBlock` JSON-RPC response body (any `transactionDetails` that lists transactions), parsing
 * only the transactions that can touch custody: one pass over the text finds each element of
 * `result.transactions` and every string in it, and only an element in which some string is a watched
 * address (an account key, a loaded address or a token balance's owner) is handed to the JSON parser.
 * The rest (on mainnet, ~1,000 votes and most other transactions of a slot) never become objects.
 *
 * Why this is exact: every balance the indexer derives belongs to an account key or a token-balance
 * owner equal to a custody address, and both are JSON strings of the transaction; a string is compared
 * after JSON unescaping. An element whose token balances lack an `owner` is parsed too, so the
 * indexer's refusal of such nodes still applies. Kept transactions carry `index`, their position in
 * the block; `result.skippedTransactions` counts the others. Integers of 16+ digits stay exact.
 * @throws SyntaxError when the text is not well-formed JSON around or inside the transactions.
 */
export function parseBlockJson(text: string, p: ParseBlockJsonParameters): unknown {
  const span = findTransactionsArray(text);
  if (!span) return parseRpcJson(text);
  const kept: Record<string, unknown>[] = [];
  const backslashes = createBackslashFinder(text);
  let skipped = 0;
  let i = skipWhitespace(text, span.open + 1);
  let close = i;
  if (text.charCodeAt(i) !== CLOSE_ARRAY) {
    for (let index = 0; ; index++) {
      if (text.charCodeAt(i) !== OPEN_OBJECT) throw new BlockJsonError(`expected a transaction object at ${i}`);
      const scan = scanTransaction(text, i, p.watched, backslashes);
      if (scan.relevant) {
        const tx = parseRpcJson(text.slice(i, scan.end)) as Record<string, unknown>;
        tx.index = index;
        kept.push(tx);
      } else skipped++;
      i = skipWhitespace(text, scan.end);
      const c = text.charCodeAt(i);
      if (c === CLOSE_ARRAY) {
        close = i;
        break;
      }
      if (c !== COMMA) throw new BlockJsonError(`expected , or ] after a transaction at ${i}`);
      i = skipWhitespace(text, i + 1);
    }
  }
  const body = parseRpcJson(text.slice(0, span.open + 1) + text.slice(close)) as { result?: Record<string, unknown> };
  if (body.result) {
    body.result.transactions = kept;
    body.result.skippedTransactions = skipped;
  }
  return body;
}

function skipWhitespace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** Index of the closing quote of the string whose opening quote is at `open` (escaped quotes skipped). */
function stringEnd(text: string, open: number): number {
  let j = open;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) throw new BlockJsonError(`unterminated string at ${open}`);
    let n = 0;
    while (text.charCodeAt(j - 1 - n) === BACKSLASH) n++;
    if (n % 2 === 0) return j;
  }
}

/**
 * "Is there a backslash in [from, to)?" in amortised O(1): the next backslash's index is found once
 * and reused until the scan passes it (a node's block JSON usually has none at all).
 */
function createBackslashFinder(text: string): (from: number, to: number) => boolean {
  let next = -2;
  return (from, to) => {
    if (next !== -1 && next < from) next = text.indexOf("\\", from);
    return next !== -1 && next < to;
  };
}

/**
 * Finds `result.transactions`: the array value of key "transactions" in the object that is the value
 * of the top-level key "result". Returns the index of its `[`, or null (an error response, or a block
 * without transactions).
 */
function findTransactionsArray(text: string): { open: number } | null {
  const keys: (string | null)[] = []; // per open container: the key its value was reached by
  let pendingKey: string | null = null;
  let lastString: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const raw = text.slice(i + 1, end);
      lastString = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
      i = end;
    } else if (c === COLON) {
      pendingKey = lastString;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (c === OPEN_ARRAY && pendingKey === "transactions" && keys.length === 2 && keys[1] === "result") return { open: i };
      keys.push(pendingKey);
      pendingKey = null;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      keys.pop();
      pendingKey = null;
    } else if (c === COMMA) {
      pendingKey = null;
    }
  }
  return null;
}

/**
 * Walks one transaction object from its `{` at `start` to its end, deciding whether it can touch
 * custody: some string in it is a watched address, or it has token balances without owners.
 */
function scanTransaction(text: string, start: number, watched: WatchedAddresses, hasBackslash: (from: number, to: number) => boolean): { end: number; relevant: boolean } {
  let depth = 0;
  let relevant = false;
  let tokenBalances = 0;
  let owners = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const length = end - i - 1;
      if (!relevant && length <= MAX_ESCAPED) {
        let value: string | undefined;
        if (hasBackslash(i + 1, end)) value = JSON.parse(text.slice(i, end + 1)) as string;
        else if (length >= MIN_ADDRESS && length <= MAX_ADDRESS) value = text.slice(i + 1, end);
        else if (length === 13 && text.startsWith("uiTokenAmount", i + 1)) tokenBalances++;
        else if (length === 5 && text.startsWith("owner", i + 1)) owners++;
        if (value !== undefined) {
          if (value.length >= MIN_ADDRESS && value.length <= MAX_ADDRESS && watched.has(value)) relevant = true;
          else if (value === "uiTokenAmount") tokenBalances++;
          else if (value === "owner") owners++;
        }
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return { end: i + 1, relevant: relevant || owners < tokenBalances };
    }
  }
  throw new BlockJsonError(`unterminated transaction at ${start}`);
}
