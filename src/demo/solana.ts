import { createHash } from "node:crypto";
import { Keypair, PublicKey } from "@solana/web3.js";
import { formatUnits } from "../lib/amounts.js";
import {
  closeTokenAccount,
  createAta,
  createMint,
  createTokenAccount,
  mintTo,
  transferSol,
  transferToken,
} from "../devnet/solana/chain-actions.js";
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from "../devnet/solana/create-solana-chain.js";
import { startSolanaDevnet } from "../devnet/solana/start-solana-devnet.js";
import type { StartDemoPart } from "./types.js";

const SOL = 1_000_000_000n;
const UNIT = 1_000_000n; // 6-decimal stablecoins
const sol = (l: bigint) => `${formatUnits(l, 9)} SOL`;
const usd = (u: bigint, sym: string) => `${formatUnits(u, 6)} ${sym}`;

/** A deterministic demo keypair (the demo is reproducible run to run). */
function demoKey(name: string): Keypair {
  return Keypair.fromSeed(createHash("sha256").update(`backstop-demo:${name}`).digest());
}

/**
 * The demo's Solana part: the LiteSVM-backed local chain (real runtime, real SPL Token and
 * Token-2022 programs) behind its JSON-RPC server; a hot and a cold custody wallet holding SOL,
 * an SPL stablecoin (USDC) and a Token-2022 one (PYUSD); deposits and withdrawals, a second
 * non-associated token account, a closed token account, skipped slots and a dropped fork.
 */
export const startSolanaDemo: StartDemoPart = async () => {
  // Slots are produced by the activity itself (deterministic), finalized 3 blocks behind processed.
  // Block times follow the wall clock (genesis unchanged), so blocks come after the liabilities
  // snapshot's time and a checkpoint can anchor on this chain.
  const net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 3, wallClock: true });
  const { chain } = net;
  const payer = demoKey("payer");
  const authority = demoKey("mint-authority");
  const hot = demoKey("sol-hot");
  const cold = demoKey("sol-cold");
  const outside = demoKey("outside");
  const spl = new PublicKey(TOKEN_PROGRAM);
  const t22 = new PublicKey(TOKEN_2022_PROGRAM);
  const finalize = (skipEvery = 0) => {
    for (let i = 0; i < 5; i++) chain.tick({ skip: skipEvery && i % skipEvery === 1 ? 1 : 0 });
  };

  chain.airdrop(payer.publicKey, 100n * SOL);
  chain.airdrop(outside.publicKey, 50n * SOL);
  chain.tick();
  const usdc = createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: spl, mint: demoKey("usdc-mint") });
  const pyusd = createMint(chain, { payer, authority: authority.publicKey, decimals: 6, programId: t22, mint: demoKey("pyusd-mint") });
  finalize(); // the mints must be finalized before the indexer checks them
  const ata = (owner: PublicKey, mint: PublicKey, programId: PublicKey) => createAta(chain, { payer, owner, mint, programId });
  const outUsdc = ata(outside.publicKey, usdc, spl);
  const outPyusd = ata(outside.publicKey, pyusd, t22);
  mintTo(chain, { payer, authority, mint: usdc, to: outUsdc, amount: 10_000_000n * UNIT, programId: spl });
  mintTo(chain, { payer, authority, mint: pyusd, to: outPyusd, amount: 10_000_000n * UNIT, programId: t22 });
  let hotUsdc: PublicKey | undefined;

  return {
    name: "solana",
    // birthdaySlot: the demo wallets are new, so every custody transaction is indexed from its block.
    // maxAnchorSkewSeconds: this chain makes slots only when the demo acts (a round every 5 s, none while
    // the opening round indexes, which takes minutes on a busy machine), so the last block before the
    // snapshot can be older than a live cluster's 120 s default allows (a cluster makes one every 0.4 s).
    // windowBlocks 4 (default 150 slots): the checkpoint waits until 4 slots after its anchor are final.
    chains: { sol: { chain: "solana-local", rpc: [net.url], pollIntervalMs: 400, birthdaySlot: 0, maxAnchorSkewSeconds: 1800, windowBlocks: 4 } },
    assets: {
      SOL: { chain: "sol", decimals: 9, native: true, backs: "SOL" },
      USDC: { chain: "sol", decimals: 6, address: usdc.toBase58(), tokenProgram: "spl-token", backs: "USDC" },
      PYUSD: { chain: "sol", decimals: 6, address: pyusd.toBase58(), tokenProgram: "token-2022", backs: "PYUSD" },
    },
    liabilityAssets: { SOL: { decimals: 9 }, USDC: { decimals: 6 }, PYUSD: { decimals: 6 } },
    wallets: [
      { label: "sol-hot", chain: "sol", address: hot.publicKey.toBase58() },
      { label: "sol-cold", chain: "sol", address: cold.publicKey.toBase58() },
    ],
    async activity({ step }) {
      const lines: string[] = [];
      if (step === 0) {
        transferSol(chain, { from: outside, to: hot.publicKey, lamports: 12n * SOL });
        transferSol(chain, { from: outside, to: cold.publicKey, lamports: 30n * SOL });
        lines.push(`deposits: ${sol(12n * SOL)} to sol-hot, ${sol(30n * SOL)} to sol-cold`);
        hotUsdc = ata(hot.publicKey, usdc, spl);
        const coldPyusd = ata(cold.publicKey, pyusd, t22);
        transferToken(chain, { payer, owner: outside, mint: usdc, from: outUsdc, to: hotUsdc, amount: 250_000n * UNIT, decimals: 6, programId: spl });
        transferToken(chain, { payer, owner: outside, mint: pyusd, from: outPyusd, to: coldPyusd, amount: 1_000_000n * UNIT, decimals: 6, programId: t22 });
        lines.push(`deposits: ${usd(250_000n * UNIT, "USDC")} (SPL Token) to sol-hot, ${usd(1_000_000n * UNIT, "PYUSD")} (Token-2022) to sol-cold`);
        // A second, non-associated USDC account of sol-cold: only a scan of the owner's accounts finds it.
        const coldExtra = createTokenAccount(chain, { payer, owner: cold.publicKey, mint: usdc, programId: spl });
        transferToken(chain, { payer, owner: outside, mint: usdc, from: outUsdc, to: coldExtra, amount: 75_000n * UNIT, decimals: 6, programId: spl });
        lines.push(`deposit: ${usd(75_000n * UNIT, "USDC")} to a second, non-associated token account of sol-cold (${coldExtra.toBase58().slice(0, 8)}…)`);
        chain.tick({ skip: 2 });
        transferToken(chain, { payer: hot, owner: hot, mint: usdc, from: hotUsdc, to: outUsdc, amount: 40_000n * UNIT, decimals: 6, programId: spl });
        transferSol(chain, { from: hot, to: outside.publicKey, lamports: 3n * SOL / 2n });
        lines.push(`withdrawals: ${usd(40_000n * UNIT, "USDC")} and ${sol(3n * SOL / 2n)} from sol-hot (sol-hot pays the fees)`);
        // A temporary PYUSD account of sol-hot: funded, emptied, closed (its rent returns to sol-hot).
        const temp = createTokenAccount(chain, { payer, owner: hot.publicKey, mint: pyusd, programId: t22 });
        transferToken(chain, { payer, owner: outside, mint: pyusd, from: outPyusd, to: temp, amount: 500n * UNIT, decimals: 6, programId: t22 });
        chain.tick();
        transferToken(chain, { payer: hot, owner: hot, mint: pyusd, from: temp, to: outPyusd, amount: 500n * UNIT, decimals: 6, programId: t22 });
        closeTokenAccount(chain, { payer: hot, owner: hot, account: temp, destination: hot.publicKey, programId: t22 });
        lines.push(`token account ${temp.toBase58().slice(0, 8)}… of sol-hot: received and returned ${usd(500n * UNIT, "PYUSD")}, then closed`);
        finalize(2);
        lines.push(`slot ${chain.slotOf("processed")} (finalized ${chain.slotOf("finalized")}; ${chain.slotOf("processed") + 1 - chain.canonical.length} slots skipped so far)`);
        return lines;
      }
      if (step === 1) {
        // A fork seen at processed that the cluster drops: the deposit in it never existed.
        transferSol(chain, { from: outside, to: hot.publicKey, lamports: 9n * SOL });
        const fork = chain.tick();
        chain.abandon({ depth: 1 });
        lines.push(`fork: slot ${fork.slot} with a ${sol(9n * SOL)} deposit to sol-hot was seen at processed, then dropped (never finalized, never indexed)`);
      }
      const amount = BigInt(1 + (step % 4)) * 1_000n * UNIT;
      transferToken(chain, { payer, owner: outside, mint: usdc, from: outUsdc, to: hotUsdc!, amount, decimals: 6, programId: spl });
      transferSol(chain, { from: cold, to: outside.publicKey, lamports: SOL / 4n });
      finalize(3);
      lines.push(`deposit ${usd(amount, "USDC")} to sol-hot, withdrawal ${sol(SOL / 4n)} from sol-cold; finalized slot ${chain.slotOf("finalized")}`);
      return lines;
    },
    async stop() {
      await net.stop();
    },
  };
};
