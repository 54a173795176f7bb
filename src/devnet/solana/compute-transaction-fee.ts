import type { MessageCompiledInstruction } from "@solana/web3.js";

/** Lamports charged per signature (the cluster's and LiteSVM's default fee structure). */
export const LAMPORTS_PER_SIGNATURE = 5000n;
/** ComputeBudget111111111111111111111111111111. */
const COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111";
/** Per-instruction default compute-unit allocation: builtin programs get 3,000, every other program 200,000. */
const BUILTIN_DEFAULT_UNITS = 3_000n;
const PROGRAM_DEFAULT_UNITS = 200_000n;
/** A transaction's compute-unit limit is capped at 1.4 M units. */
const MAX_COMPUTE_UNITS = 1_400_000n;
/** Builtin (native) programs, which get the small default allocation. */
const BUILTINS = new Set([
  "11111111111111111111111111111111",
  COMPUTE_BUDGET_PROGRAM,
  "Vote111111111111111111111111111111111111111",
  "Stake11111111111111111111111111111111111111",
  "Config1111111111111111111111111111111111111",
  "AddressLookupTab1e1111111111111111111111111",
  "BPFLoader1111111111111111111111111111111111",
  "BPFLoader2111111111111111111111111111111111",
  "BPFLoaderUpgradeab1e11111111111111111111111",
  "LoaderV411111111111111111111111111111111111",
  "ZkE1Gama1Proof11111111111111111111111111111",
]);

/**
 * The fee a transaction pays, in lamports, as the runtime charges it: 5,000 per signature plus the
 * prioritization fee, ceil(compute-unit limit × compute-unit price (micro-lamports) / 10^6). The limit
 * is SetComputeUnitLimit's, else the per-instruction defaults (builtins 3,000, others 200,000), capped
 * at 1.4 M. The test chain records this as `meta.fee`; LiteSVM charges the same but does not report it.
 */
export function computeTransactionFee(p: { keys: readonly string[]; instructions: readonly MessageCompiledInstruction[]; signatures: number }): bigint {
  let limit: bigint | undefined;
  let price = 0n;
  let defaults = 0n;
  for (const ix of p.instructions) {
    const program = p.keys[ix.programIdIndex]!;
    defaults += BUILTINS.has(program) ? BUILTIN_DEFAULT_UNITS : PROGRAM_DEFAULT_UNITS;
    if (program !== COMPUTE_BUDGET_PROGRAM) continue;
    const d = Buffer.from(ix.data);
    if (d[0] === 2 && d.length >= 5) limit = BigInt(d.readUInt32LE(1)); // SetComputeUnitLimit(u32)
    if (d[0] === 3 && d.length >= 9) price = d.readBigUInt64LE(1); // SetComputeUnitPrice(u64 micro-lamports)
  }
  const units = (limit ?? defaults) < MAX_COMPUTE_UNITS ? (limit ?? defaults) : MAX_COMPUTE_UNITS;
  const priority = (units * price + 999_999n) / 1_000_000n;
  return LAMPORTS_PER_SIGNATURE * BigInt(p.signatures) + priority;
}
