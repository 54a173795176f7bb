// Ponder 0.16's checkpoint string (utils/checkpoint.ts): timestamp(10) chainId(16) blockNumber(16)
// transactionIndex(16) eventType(1) eventIndex(16), 75 characters, ordered as strings.
const BLOCK_AT = 26;
const TAIL_AT = 42;
/**
 * The tail of the checkpoint of a block's *block event* (transactionIndex = max, eventType 5 = blocks,
 * eventIndex 0): Ponder runs it after every log, transaction and trace event of the block, so a latest
 * checkpoint at or past it means the block's handlers have all run and committed.
 */
const BLOCK_EVENT_TAIL = `${"9".repeat(16)}5${"0".repeat(16)}`;

/**
 * The highest block whose events Ponder has all processed, from its `latest_checkpoint`; null when none.
 *
 * A checkpoint names a position *inside* a block. Ponder's initial checkpoint is the start block
 * rounded down (`…<start>0000…0`, nothing of it processed yet): reading that as "block <start> done"
 * served the start block's header before its balances were written (a mirrored snapshot of 0).
 */
export function completedBlock(checkpoint: string | null | undefined): number | null {
  if (!checkpoint || checkpoint.length !== 75 || !/^\d{75}$/.test(checkpoint)) return null;
  const block = Number(checkpoint.slice(BLOCK_AT, TAIL_AT));
  const done = checkpoint.slice(TAIL_AT) >= BLOCK_EVENT_TAIL ? block : block - 1;
  return done >= 0 ? done : null;
}
