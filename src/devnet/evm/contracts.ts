import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Abi, Hex } from "viem";

/**
 * Solidity sources of the devnet contracts (demo and tests): a plain ERC-20 with mint, a fee-on-transfer
 * token (1% to a fee sink, two Transfer logs), a rebasing token whose `rebase` moves every balance
 * without a Transfer log, a forwarder that sends ETH on from inside a contract call (an internal transfer),
 * a token that burns from a holder without a log, and a Safe-like contract wallet that pays out ETH internally.
 */
export const DEVNET_SOURCES = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

contract TestToken {
    string public symbol;
    uint8 public decimals;
    mapping(address => uint256) internal bal;
    event Transfer(address indexed from, address indexed to, uint256 value);
    constructor(string memory s, uint8 d) { symbol = s; decimals = d; }
    function balanceOf(address a) public view virtual returns (uint256) { return bal[a]; }
    function mint(address to, uint256 v) external { bal[to] += v; emit Transfer(address(0), to, v); }
    function transfer(address to, uint256 v) external virtual returns (bool) {
        require(bal[msg.sender] >= v, "balance");
        bal[msg.sender] -= v; bal[to] += v;
        emit Transfer(msg.sender, to, v);
        return true;
    }
}

contract FeeToken is TestToken {
    address public sink;
    constructor(string memory s, uint8 d, address sink_) TestToken(s, d) { sink = sink_; }
    function transfer(address to, uint256 v) external override returns (bool) {
        require(bal[msg.sender] >= v, "balance");
        uint256 fee = v / 100;
        bal[msg.sender] -= v; bal[to] += v - fee; bal[sink] += fee;
        emit Transfer(msg.sender, to, v - fee);
        if (fee > 0) emit Transfer(msg.sender, sink, fee);
        return true;
    }
}

contract RebaseToken is TestToken {
    uint256 public index = 1e18;
    constructor(string memory s, uint8 d) TestToken(s, d) {}
    function balanceOf(address a) public view override returns (uint256) { return bal[a] * index / 1e18; }
    // Moves every holder's balance; deliberately emits no Transfer log.
    function rebase(uint256 newIndex) external { index = newIndex; }
    function transfer(address to, uint256 v) external override returns (bool) {
        uint256 shares = v * 1e18 / index;
        require(bal[msg.sender] >= shares, "balance");
        bal[msg.sender] -= shares; bal[to] += shares;
        emit Transfer(msg.sender, to, v);
        return true;
    }
}

contract Forwarder {
    // ETH reaches \`to\` from inside this contract's call: no transaction of \`to\` shows it, only a trace.
    function forward(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "forward");
    }
}

contract BurnToken is TestToken {
    constructor(string memory s, uint8 d) TestToken(s, d) {}
    // Takes tokens from a holder without a Transfer log (USDT's destroyBlackFunds emits none either).
    function burnSilently(address from, uint256 v) external { bal[from] -= v; }
}

contract ContractWallet {
    // A Safe-like custody wallet: holds ETH and pays it out from inside its own call (an internal transfer).
    address public owner;
    constructor() { owner = msg.sender; }
    receive() external payable {}
    function pay(address payable to, uint256 v) external {
        require(msg.sender == owner, "owner");
        (bool ok, ) = to.call{value: v}("");
        require(ok, "pay");
    }
}
`;

export type CompiledContract = { abi: Abi; bytecode: Hex };
export type DevnetContracts = Record<"TestToken" | "FeeToken" | "RebaseToken" | "Forwarder" | "BurnToken" | "ContractWallet", CompiledContract>;

/**
 * Compiles DEVNET_SOURCES with solc-js (0.8.30), caching the output in the OS temp dir by source hash
 * (loading solc-js takes seconds). @throws Error with solc's messages on a compile error.
 */
export function compileDevnetContracts(): DevnetContracts {
  const hash = createHash("sha256").update(DEVNET_SOURCES).digest("hex").slice(0, 16);
  const dir = path.join(tmpdir(), "backstop-solc-cache");
  const file = path.join(dir, `devnet-${hash}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as DevnetContracts;
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "Devnet.sol": { content: DEVNET_SOURCES } },
        settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
      }),
    ),
  ) as { errors?: Array<{ severity: string; formattedMessage: string }>; contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>> };
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join("\n")}`);
  const c = out.contracts["Devnet.sol"]!;
  const result = Object.fromEntries(
    Object.entries(c).map(([name, v]) => [name, { abi: v.abi, bytecode: `0x${v.evm.bytecode.object}` as Hex }]),
  ) as DevnetContracts;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(result));
  // Atomic publish: concurrent test files may compile at the same time.
  require("node:fs").renameSync(`${file}.${process.pid}`, file);
  return result;
}
