import { BackstopError } from "../../lib/errors.js";

/**
 * Raw block bytes that do not parse as a Bitcoin block (truncated, bad varint, counts
 * larger than the bytes left, trailing bytes). `offset` is the byte position in the
 * raw block where parsing failed; undefined when the parser (bitcoinjs-lib) cannot say.
 */
export class MalformedBlockError extends BackstopError {
  override name = "MalformedBlockError";
  readonly offset: number | undefined;
  readonly reason: string;

  constructor(p: { offset?: number; reason: string; blockHash?: string; cause?: unknown }) {
    super(
      "BITCOIN__MALFORMED_BLOCK",
      p.offset === undefined
        ? `Malformed Bitcoin block: ${p.reason}.`
        : `Malformed Bitcoin block at byte ${p.offset}: ${p.reason}.`,
      {
        cause: p.cause,
        meta: p.blockHash === undefined ? [] : [`block: ${p.blockHash}`],
        // The same bytes always fail the same way; whether to fetch the block again
        // (a truncated HTTP body) is the fetch layer's decision, not the parser's.
        retryable: false,
      },
    );
    this.offset = p.offset;
    this.reason = p.reason;
  }
}
