import { describe, expect, it } from "vitest";
import { completedBlock } from "../../../src/chains/evm/ponder-checkpoint.js";

// Checkpoints built the way Ponder 0.16 encodes them (utils/checkpoint.ts encodeCheckpoint).
const cp = (block: number, txIndex: bigint | "max", eventType: number, eventIndex = 0n) =>
  `${"1700000012".padStart(10, "0")}${"31337".padStart(16, "0")}${String(block).padStart(16, "0")}${(txIndex === "max" ? "9999999999999999" : String(txIndex)).padStart(16, "0")}${eventType}${String(eventIndex).padStart(16, "0")}`;

describe("completedBlock (Ponder latest_checkpoint → last fully indexed block)", () => {
  it("reads Ponder's initial checkpoint (start block rounded down) as nothing of the start block done", () => {
    expect(cp(1, 0n, 0)).toHaveLength(75);
    expect(completedBlock(cp(1, 0n, 0))).toBe(0);
    expect(completedBlock(cp(0, 0n, 0))).toBeNull();
    expect(completedBlock(cp(500, 0n, 0))).toBe(499);
  });
  it("counts a block done at its block event or past it (rounded up), not at a log, transaction or trace inside it", () => {
    expect(completedBlock(cp(7, 3n, 5, 12n))).toBe(6); // a log
    expect(completedBlock(cp(7, 3n, 7, 2n))).toBe(6); // a trace
    expect(completedBlock(cp(7, 3n, 2))).toBe(6); // a transaction
    expect(completedBlock(cp(7, "max", 5))).toBe(7); // the block event, run last in the block
    expect(completedBlock(cp(7, "max", 9, 9999999999999999n))).toBe(7); // realtime / batch end: block rounded up
  });
  it("rejects what is not a checkpoint", () => {
    expect(completedBlock(null)).toBeNull();
    expect(completedBlock(undefined)).toBeNull();
    expect(completedBlock("")).toBeNull();
    expect(completedBlock(cp(7, "max", 5).slice(1))).toBeNull();
    expect(completedBlock(`x${cp(7, "max", 5).slice(1)}`)).toBeNull();
  });
});
