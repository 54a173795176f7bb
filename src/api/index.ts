// Ponder's API entry: Backstop's narrow, versioned read route over Ponder's tables. Backstop's
// EVM indexer (src/chains/evm/) is its only client. Ponder also serves /health, /ready and /status.
import { Hono } from "hono";
import { and, asc, between, eq, sql } from "ponder";
import { db } from "ponder:api";
import schema from "ponder:schema";
import { completedBlock } from "../chains/evm/ponder-checkpoint.js";

const MAX_LIMIT = 1000;
const app = new Hono();

class BadRequest extends Error {}

function intParam(value: string | undefined, name: string, dflt?: number): number {
  if (value === undefined || value === "") {
    if (dflt === undefined) throw new BadRequest(`${name} is required`);
    return dflt;
  }
  if (!/^\d{1,15}$/.test(value)) throw new BadRequest(`${name} must be a non-negative integer`);
  return Number(value);
}

/**
 * GET /backstop/v2/balances?chainId=&fromBlock=&limit=
 * Blocks from `fromBlock` (ascending, at most `limit`, default 500, max 1000) with the absolute balances
 * read in each that differ from the previous read, whether the block was a full read of every (wallet,
 * token), and its custody `Transfer` logs; plus Ponder's indexed and finalized block for the chain. Balances are base-unit
 * decimal strings; block numbers are JSON numbers; hashes 0x-hex.
 */
app.get("/backstop/v2/balances", async (c) => {
  const chainId = intParam(c.req.query("chainId"), "chainId");
  const fromBlock = intParam(c.req.query("fromBlock"), "fromBlock", 0);
  const limit = intParam(c.req.query("limit"), "limit", 500);
  if (limit < 1 || limit > MAX_LIMIT) throw new BadRequest(`limit must be between 1 and ${MAX_LIMIT}`);

  const cps = (await db.execute(
    sql`select chain_id, latest_checkpoint, finalized_checkpoint from _ponder_checkpoint where chain_id = ${chainId}`,
  )) as unknown as { rows: Array<{ chain_id: string; latest_checkpoint: string; finalized_checkpoint: string }> };
  const cp = cps.rows[0];

  const indexed = completedBlock(cp?.latest_checkpoint);
  // Only blocks Ponder has fully processed (its checkpoint is at or past their block event): never a block
  // whose rows are half written.
  const blocks = indexed === null ? [] : await db
    .select()
    .from(schema.backstopBlock)
    .where(and(eq(schema.backstopBlock.chainId, chainId), between(schema.backstopBlock.number, BigInt(fromBlock), BigInt(indexed))))
    .orderBy(asc(schema.backstopBlock.number))
    .limit(limit);
  const balances =
    blocks.length === 0
      ? []
      : await db
          .select()
          .from(schema.backstopBalance)
          .where(
            and(
              eq(schema.backstopBalance.chainId, chainId),
              between(schema.backstopBalance.blockNumber, blocks[0]!.number, blocks[blocks.length - 1]!.number),
            ),
          );
  const transfers =
    blocks.length === 0
      ? []
      : await db
          .select()
          .from(schema.backstopTransfer)
          .where(
            and(
              eq(schema.backstopTransfer.chainId, chainId),
              between(schema.backstopTransfer.blockNumber, blocks[0]!.number, blocks[blocks.length - 1]!.number),
            ),
          );
  const logsByBlock = new Map<bigint, Array<{ logIndex: number; txHash: string; asset: string; from: string; to: string; amount: string }>>();
  for (const x of transfers) {
    let list = logsByBlock.get(x.blockNumber);
    if (!list) logsByBlock.set(x.blockNumber, (list = []));
    list.push({ logIndex: x.logIndex, txHash: x.txHash, asset: x.asset, from: x.from, to: x.to, amount: x.amount.toString() });
  }
  const byBlock = new Map<bigint, Array<{ wallet: string; asset: string; balance: string }>>();
  for (const b of balances) {
    let list = byBlock.get(b.blockNumber);
    if (!list) byBlock.set(b.blockNumber, (list = []));
    list.push({ wallet: b.wallet, asset: b.asset, balance: b.balance.toString() });
  }
  return c.json({
    version: 2,
    chainId,
    indexed,
    finalized: completedBlock(cp?.finalized_checkpoint),
    blocks: blocks.map((b) => ({
      number: Number(b.number),
      hash: b.hash,
      parentHash: b.parentHash,
      timestamp: Number(b.timestamp),
      fullRead: b.fullRead,
      transfers: (logsByBlock.get(b.number) ?? []).sort((x, y) => x.logIndex - y.logIndex),
      balances: (byBlock.get(b.number) ?? []).sort((x, y) => (x.wallet + x.asset < y.wallet + y.asset ? -1 : 1)),
    })),
  });
});

app.onError((error, c) => {
  if (error instanceof BadRequest) return c.json({ error: { code: "API__BAD_REQUEST", message: error.message } }, 400);
  return c.json({ error: { code: "API__INTERNAL", message: "internal error" } }, 500);
});

export default app;
