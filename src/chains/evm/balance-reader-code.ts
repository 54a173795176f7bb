import type { Hex } from "viem";

/**
 * Backstop's balance reader: EVM runtime code that Backstop never deploys. `eth_call` runs it at
 * BALANCE_READER_ADDRESS through a state override (the call's third parameter `{ [address]: { code } }`,
 * offered by geth, erigon, nethermind, reth, anvil and the usual hosted providers), pinned to a block like
 * any `eth_call`. Calldata (packed, no ABI): `uint16 n`, then n native wallets (20 bytes each), then
 * (token, wallet) pairs (40 bytes each) to the end. Returns one uint256 per entry, in order: BALANCE for
 * the natives, `balanceOf(wallet)` by STATICCALL for the pairs (0 when the token has no code at that
 * block: the call succeeds with no return data). Any other answer (a revert, return data that is not 32
 * bytes) reverts the whole read with the entry's calldata offset, so a bad read is never a number.
 *
 * Why not Multicall3 `getEthBalance`: each sub-call is an ABI-encoded CALL into Multicall3 (≈ 100 bytes of
 * calldata and ≈ 1 k gas of call overhead on top of BALANCE's 2,600 cold, and a ≈ 200-byte tuple to
 * decode per result); this reads a wallet with 20 bytes in and 32 out. Why not a deployless call (init
 * code in an `eth_call` without `to`): the returned data of a creation is code, capped at 24,576 bytes
 * (EIP-170) and refused when it starts with 0xEF (EIP-3541): 768 balances a call, not 1,000.
 */
export const BALANCE_READER_ADDRESS = "0x00000000000000000000000000000000bac57090" as const;

/** Opcodes used below. */
const OP = {
  ADD: 0x01, MUL: 0x02, SUB: 0x03, LT: 0x10, EQ: 0x14, ISZERO: 0x15, AND: 0x16, SHL: 0x1b, SHR: 0x1c,
  BALANCE: 0x31, CALLDATASIZE: 0x36, CALLDATACOPY: 0x37, RETURNDATASIZE: 0x3d, POP: 0x50, MLOAD: 0x51, MSTORE: 0x52,
  JUMP: 0x56, JUMPI: 0x57, GAS: 0x5a, JUMPDEST: 0x5b, PUSH1: 0x60, PUSH2: 0x61, PUSH4: 0x63,
  DUP1: 0x80, DUP2: 0x81, DUP3: 0x82, DUP4: 0x83, DUP5: 0x84, SWAP1: 0x90, STATICCALL: 0xfa, RETURN: 0xf3, REVERT: 0xfd,
} as const;
type Op = keyof typeof OP;
type Item = Op | number | { label: string } | { push: string };

/**
 * Two-pass assembler: a number after PUSH1/PUSH4 is its 1- or 4-byte immediate; `{ label: L }` is a
 * JUMPDEST named L; `{ push: L }` is PUSH2 of L's offset.
 */
function assemble(items: Item[]): Hex {
  const width = (it: Item, prev: Item | undefined) =>
    typeof it === "object" ? ("label" in it ? 1 : 3) : typeof it === "number" ? (prev === "PUSH4" ? 4 : 1) : 1;
  const labels = new Map<string, number>();
  let pc = 0;
  items.forEach((it, i) => {
    if (typeof it === "object" && "label" in it) labels.set(it.label, pc);
    pc += width(it, items[i - 1]);
  });
  const bytes: number[] = [];
  items.forEach((it, i) => {
    if (typeof it === "string") bytes.push(OP[it]);
    else if (typeof it === "number") {
      const w = width(it, items[i - 1]);
      for (let b = w - 1; b >= 0; b--) bytes.push(Math.floor(it / 256 ** b) % 256);
    } else if ("label" in it) bytes.push(OP.JUMPDEST);
    else {
      const to = labels.get(it.push);
      if (to === undefined) throw new Error(`unknown label ${it.push}`);
      bytes.push(OP.PUSH2, to >> 8, to & 0xff);
    }
  });
  return `0x${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
}

/**
 * Memory: calldata copied to [0, len); results from `len + 32` up (the gap keeps the 32-byte loads of
 * the last entries reading zeros, not results). Stack through the loops, top first: i (calldata offset),
 * o (result offset), nativeEnd, len.
 */
const PROGRAM: Item[] = [
  "CALLDATASIZE", "DUP1", "PUSH1", 0, "PUSH1", 0, "CALLDATACOPY", // [len]; memory[0..len) = calldata
  "PUSH1", 0, "MLOAD", "PUSH1", 240, "SHR", // [n, len]
  "PUSH1", 20, "MUL", "PUSH1", 2, "ADD", // [nativeEnd, len]
  "DUP2", "PUSH1", 32, "ADD", // [o, nativeEnd, len]
  "PUSH1", 2, // [i, o, nativeEnd, len]
  { label: "native" },
  "DUP3", "DUP2", "LT", "ISZERO", { push: "tokens" }, "JUMPI", // i >= nativeEnd: to the pairs
  "DUP1", "MLOAD", "PUSH1", 96, "SHR", "BALANCE", "DUP3", "MSTORE", // memory[o] = balance(wallet at i)
  "PUSH1", 20, "ADD", "SWAP1", "PUSH1", 32, "ADD", "SWAP1", // i += 20, o += 32
  { push: "native" }, "JUMP",
  { label: "tokens" },
  "DUP4", "DUP2", "LT", "ISZERO", { push: "done" }, "JUMPI", // i >= len: done
  "PUSH4", 0x70a08231, "PUSH1", 224, "SHL", "DUP3", "MSTORE", // memory[o..o+4) = balanceOf selector
  "DUP1", "PUSH1", 20, "ADD", "MLOAD", "PUSH1", 96, "SHR", "DUP3", "PUSH1", 4, "ADD", "MSTORE", // memory[o+4..o+36) = wallet
  "PUSH1", 32, "DUP3", "PUSH1", 36, "DUP5", // retSize 32, retOffset o, argsSize 36, argsOffset o
  "DUP5", "MLOAD", "PUSH1", 96, "SHR", "GAS", "STATICCALL", // [success, i, o, nativeEnd, len]
  "RETURNDATASIZE", "PUSH1", 32, "EQ", "DUP2", "AND", { push: "ok" }, "JUMPI", // success && 32 bytes: the result is at o
  "RETURNDATASIZE", "ISZERO", "AND", { push: "zero" }, "JUMPI", // success && no data: no code, 0
  "PUSH1", 0, "MSTORE", "PUSH1", 32, "PUSH1", 0, "REVERT", // revert(i)
  { label: "zero" },
  "PUSH1", 0, "DUP3", "MSTORE", { push: "next" }, "JUMP",
  { label: "ok" },
  "POP",
  { label: "next" },
  "PUSH1", 40, "ADD", "SWAP1", "PUSH1", 32, "ADD", "SWAP1", // i += 40, o += 32
  { push: "tokens" }, "JUMP",
  { label: "done" },
  "DUP4", "PUSH1", 32, "ADD", "DUP1", "DUP4", "SUB", "SWAP1", "RETURN", // return(len + 32, o - (len + 32))
];

/** The reader's runtime code (hex). */
export const BALANCE_READER_CODE: Hex = assemble(PROGRAM);
