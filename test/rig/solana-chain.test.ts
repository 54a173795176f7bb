import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SolanaJSONRPCError,
  SystemProgram,
  TransactionMessage,
  VersionedTransaction,
} from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import {
  closeTokenAccount,
  createAta,
  createSolanaChain,
  createValidator,
  createMint,
  createTokenAccount,
  mintTo,
  send,
  sendVote,
  startSolanaDevnet,
  transferSol,
  transferToken,
  type SolanaDevnet,
} from "./solana.js";

async function rpcError(p: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as SolanaJSONRPCError).code, message: (e as Error).message };
  }
  throw new Error("expected an RPC error");
}

async function raw(url: string, method: string, params: unknown[]): Promise<{ result?: any; error?: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  return (await res.json()) as { result?: any; error?: any };
}

describe("LiteSVM JSON-RPC test chain", () => {
  let net: SolanaDevnet;
  let conn: Connection;
  const payer = Keypair.generate();
  const custody = Keypair.generate();
  const mintAuthority = Keypair.generate();
  let usdc: PublicKey;
  let pyusd: PublicKey;
  let custodyUsdc: PublicKey;
  let custodyPyusd: PublicKey;
  let extraAccount: PublicKey;

  beforeAll(async () => {
    net = await startSolanaDevnet({ confirmedLag: 1, finalizedLag: 3 });
    conn = new Connection(net.url, { commitment: "finalized", disableRetryOnRateLimit: true });
    const { chain } = net;
    chain.airdrop(payer.publicKey, 100n * BigInt(LAMPORTS_PER_SOL));
    chain.airdrop(custody.publicKey, 5n * BigInt(LAMPORTS_PER_SOL));
    chain.tick();
    usdc = createMint(chain, { payer, authority: mintAuthority.publicKey, decimals: 6, programId: spl.TOKEN_PROGRAM_ID });
    pyusd = createMint(chain, { payer, authority: mintAuthority.publicKey, decimals: 6, programId: spl.TOKEN_2022_PROGRAM_ID });
    chain.tick();
    custodyUsdc = createAta(chain, { payer, owner: custody.publicKey, mint: usdc, programId: spl.TOKEN_PROGRAM_ID });
    custodyPyusd = createAta(chain, { payer, owner: custody.publicKey, mint: pyusd, programId: spl.TOKEN_2022_PROGRAM_ID });
    extraAccount = createTokenAccount(chain, { payer, owner: custody.publicKey, mint: usdc, programId: spl.TOKEN_PROGRAM_ID });
    mintTo(chain, { payer, authority: mintAuthority, mint: usdc, to: custodyUsdc, amount: 1_000_000n, programId: spl.TOKEN_PROGRAM_ID });
    mintTo(chain, { payer, authority: mintAuthority, mint: pyusd, to: custodyPyusd, amount: 7_500_000n, programId: spl.TOKEN_2022_PROGRAM_ID });
    chain.tick();
    // Move tokens between the custody's own accounts: a transaction that touches only token accounts.
    transferToken(chain, { payer, owner: custody, mint: usdc, from: custodyUsdc, to: extraAccount, amount: 250_000n, decimals: 6, programId: spl.TOKEN_PROGRAM_ID });
    chain.tick({ skip: 2 });
    for (let i = 0; i < 4; i++) chain.tick();
  });
  afterAll(async () => {
    await net?.stop();
  });

  it("reports identity, version and commitment-ordered slots", async () => {
    expect(await conn.getGenesisHash()).toBe(net.chain.genesisHash);
    expect((await conn.getVersion())["solana-core"]).toMatch(/^\d+\.\d+\.\d+$/);
    const processed = await conn.getSlot("processed");
    const confirmed = await conn.getSlot("confirmed");
    const finalized = await conn.getSlot("finalized");
    expect(processed).toBeGreaterThan(confirmed);
    expect(confirmed).toBeGreaterThan(finalized);
    expect(await conn.getBlockHeight("processed")).toBe(net.chain.canonical.length - 1);
  });

  it("serves blocks with pre/post SOL and token balances, parsed by web3.js", async () => {
    const slots = await conn.getBlocks(0, undefined, "finalized");
    expect(slots[0]).toBe(0);
    const transferSlot = net.chain.signatures.get([...net.chain.byAddress.get(extraAccount.toBase58())!].at(-1)!.signature)!.slot;
    expect(slots).toContain(transferSlot);
    const block = await conn.getBlock(transferSlot, { maxSupportedTransactionVersion: 0, transactionDetails: "full", rewards: false });
    expect(block).not.toBeNull();
    const parent = net.chain.blocks.get(block!.parentSlot)!;
    expect(block!.previousBlockhash).toBe(parent.blockhash);
    expect(block!.transactions).toHaveLength(1);
    const tx = block!.transactions[0]!;
    expect(tx.version).toBe("legacy");
    const keys = tx.transaction.message.staticAccountKeys.map((k) => k.toBase58());
    expect(keys).not.toContain(custody.publicKey.toBase58() + "x");
    const pre = tx.meta!.preTokenBalances!;
    const post = tx.meta!.postTokenBalances!;
    const ix = (k: PublicKey) => keys.indexOf(k.toBase58());
    expect(pre.find((b) => b.accountIndex === ix(custodyUsdc))).toMatchObject({ mint: usdc.toBase58(), owner: custody.publicKey.toBase58(), programId: spl.TOKEN_PROGRAM_ID.toBase58(), uiTokenAmount: { amount: "1000000", decimals: 6, uiAmountString: "1" } });
    expect(post.find((b) => b.accountIndex === ix(custodyUsdc))!.uiTokenAmount.amount).toBe("750000");
    expect(post.find((b) => b.accountIndex === ix(extraAccount))!.uiTokenAmount).toEqual({ amount: "250000", decimals: 6, uiAmount: 0.25, uiAmountString: "0.25" });
    const feePayer = ix(payer.publicKey);
    expect(tx.meta!.preBalances[feePayer]! - tx.meta!.postBalances[feePayer]!).toBe(tx.meta!.fee);
    expect(tx.meta!.err).toBeNull();
  });

  it("answers -32007 for a skipped slot and -32004 above the requested commitment", async () => {
    const finalized = await conn.getSlot("finalized");
    const produced = new Set(net.chain.canonical);
    const skipped = [...Array(finalized).keys()].find((s) => s > 0 && !produced.has(s))!;
    expect(skipped).toBeDefined();
    expect(await rpcError(conn.getBlock(skipped, { maxSupportedTransactionVersion: 0 }))).toMatchObject({
      code: -32007,
      message: expect.stringContaining(`Slot ${skipped} was skipped, or missing due to ledger jump to recent snapshot`),
    });
    expect((await raw(net.url, "getBlock", [skipped, { maxSupportedTransactionVersion: 0 }])).error).toEqual({
      code: -32007,
      message: `Slot ${skipped} was skipped, or missing due to ledger jump to recent snapshot`,
    });
    const processed = await conn.getSlot("processed");
    expect((await raw(net.url, "getBlock", [processed, { commitment: "finalized" }])).error).toEqual({ code: -32004, message: `Block not available for slot ${processed}` });
    expect((await raw(net.url, "getBlock", [processed, { commitment: "processed" }])).error.code).toBe(-32602);
    expect((await raw(net.url, "noSuchMethod", [])).error).toEqual({ code: -32601, message: "Method not found" });
  });

  it("reads balances at a commitment with context.slot, SOL and both token programs", async () => {
    const finalized = await conn.getSlot("finalized");
    const sol = await conn.getBalanceAndContext(custody.publicKey, "finalized");
    expect(sol.context.slot).toBe(finalized);
    expect(sol.value).toBe(5 * LAMPORTS_PER_SOL);
    const bal = await conn.getTokenAccountBalance(extraAccount, "finalized");
    expect(bal.context.slot).toBe(finalized);
    expect(bal.value.amount).toBe("250000");
    const legacy = await conn.getTokenAccountsByOwner(custody.publicKey, { programId: spl.TOKEN_PROGRAM_ID });
    expect(legacy.value.map((a) => a.pubkey.toBase58()).sort()).toEqual([custodyUsdc.toBase58(), extraAccount.toBase58()].sort());
    const t22 = await conn.getParsedTokenAccountsByOwner(custody.publicKey, { programId: spl.TOKEN_2022_PROGRAM_ID });
    expect(t22.value).toHaveLength(1);
    expect(t22.value[0]!.account.data.parsed.info.tokenAmount.amount).toBe("7500000");
    const byMint = await conn.getTokenAccountsByOwner(custody.publicKey, { mint: usdc });
    expect(byMint.value).toHaveLength(2);
    const decoded = spl.unpackAccount(byMint.value[0]!.pubkey, byMint.value[0]!.account, spl.TOKEN_PROGRAM_ID);
    expect(decoded.owner.equals(custody.publicKey)).toBe(true);
    const mintInfo = await spl.getMint(conn, pyusd, "finalized", spl.TOKEN_2022_PROGRAM_ID);
    expect(mintInfo.decimals).toBe(6);
    expect(await conn.getAccountInfo(Keypair.generate().publicKey)).toBeNull();
  });

  it("lists signatures per address, including transactions that touch only a token account", async () => {
    const sigs = await conn.getSignaturesForAddress(extraAccount);
    expect(sigs.length).toBe(2); // created, then received a transfer
    expect(sigs[0]!.slot).toBeGreaterThan(sigs[1]!.slot);
    // The creation (InitializeAccount3 takes the owner as data) and the mint-to into the ATA name
    // only the token account: asking for the owner's signatures misses them.
    const ownerSigs = (await conn.getSignaturesForAddress(custody.publicKey)).map((s) => s.signature);
    expect(ownerSigs).not.toContain(sigs[1]!.signature);
    const mintSig = (await conn.getSignaturesForAddress(custodyUsdc)).at(-1)!;
    expect(ownerSigs).not.toContain(mintSig.signature);
    const tx = await conn.getTransaction(mintSig.signature, { maxSupportedTransactionVersion: 0 });
    expect(tx!.slot).toBe(mintSig.slot);
    expect(tx!.meta!.postTokenBalances).toEqual([expect.objectContaining({ owner: custody.publicKey.toBase58(), uiTokenAmount: expect.objectContaining({ amount: "1000000" }) })]);
  });

  it("accepts transactions over HTTP, refuses failing ones at preflight with -32002", async () => {
    const { blockhash } = await conn.getLatestBlockhash("processed");
    const to = Keypair.generate().publicKey;
    const build = (lamports: number) => {
      const tx = new VersionedTransaction(new TransactionMessage({ payerKey: payer.publicKey, recentBlockhash: blockhash, instructions: [SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports })] }).compileToLegacyMessage());
      tx.sign([payer]);
      return tx;
    };
    const sig = await conn.sendRawTransaction(build(1_000_000).serialize());
    const failing = await rpcError(conn.sendRawTransaction(build(10 ** 15).serialize()));
    expect(failing.message).toMatch(/Transaction simulation failed/);
    net.chain.tick();
    const status = await conn.getSignatureStatus(sig);
    expect(status.value).toMatchObject({ err: null, confirmationStatus: "processed" });
    expect(await conn.getBalance(to, "processed")).toBe(1_000_000);
    expect(await conn.getBalance(to, "finalized")).toBe(0);
    for (let i = 0; i < 3; i++) net.chain.tick();
    expect(await conn.getBalance(to, "finalized")).toBe(1_000_000);
  });

  it("abandons a fork seen at processed: its transactions are undone in the runtime", async () => {
    const { chain } = net;
    const to = Keypair.generate().publicKey;
    const before = chain.svm.getBalance(payer.publicKey)!;
    transferSol(chain, { from: payer, to, lamports: 5_000_000n });
    const forkBlock = chain.tick();
    expect(await conn.getBalance(to, "processed")).toBe(5_000_000);
    expect((await conn.getBlock(forkBlock.slot, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }).catch((e) => e)).code).toBe(-32004);
    chain.abandon({ depth: 1 });
    expect(chain.svm.getBalance(to)).toBeNull();
    expect(chain.svm.getBalance(payer.publicKey)).toBe(before);
    expect(await conn.getBalance(to, "processed")).toBe(0);
    for (let i = 0; i < 4; i++) chain.tick();
    expect(await rpcError(conn.getBlock(forkBlock.slot, { maxSupportedTransactionVersion: 0 }))).toMatchObject({ code: -32007 });
    expect(() => chain.abandon({ depth: 4 })).toThrow(/confirmed/);
  });

  it("keeps account state by slot across a closed token account", async () => {
    const { chain } = net;
    const temp = createTokenAccount(chain, { payer, owner: custody.publicKey, mint: pyusd, programId: spl.TOKEN_2022_PROGRAM_ID });
    const created = chain.tick();
    closeTokenAccount(chain, { payer, owner: custody, account: temp, destination: custody.publicKey, programId: spl.TOKEN_2022_PROGRAM_ID });
    const closed = chain.tick();
    expect(chain.accountAt(temp.toBase58(), created.slot)?.owner).toBe(spl.TOKEN_2022_PROGRAM_ID.toBase58());
    expect(chain.accountAt(temp.toBase58(), closed.slot)).toBeNull();
    const block = chain.blocks.get(closed.slot)!;
    expect(block.transactions[0]!.meta.preTokenBalances.some((b) => b.owner === custody.publicKey.toBase58())).toBe(true);
    expect(block.transactions[0]!.meta.postTokenBalances).toEqual([]);
  });

  it("writes u64 lamports above 2^53 exactly", async () => {
    const whale = Keypair.generate().publicKey;
    net.chain.airdrop(whale, 2n ** 55n + 1n);
    net.chain.tick();
    const text = await (await fetch(net.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBalance", params: [whale.toBase58(), { commitment: "processed" }] }) })).text();
    expect(text).toContain(`"value":${2n ** 55n + 1n}`);
  });

  it("records the fee the runtime charges, priority fee included, and lands real vote-program votes", async () => {
    const { chain } = net;
    const to = custody.publicKey; // an existing account: 1 lamport to a new one would fail the rent check
    // 10,000 CU × 1,000,000 micro-lamports = 10,000 lamports of priority fee on top of one signature.
    const priced = send(chain, payer, [ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }), ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 }), SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1 })]);
    // Without a limit: the defaults, 3,000 CU per builtin instruction (2 here) × 1,000 / 10^6, rounded up.
    const defaulted = send(chain, payer, [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000 }), SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1 })]);
    const validator = createValidator(chain, { payer });
    for (let i = 0; i < 3; i++) chain.tick();
    const vote = sendVote(chain, validator);
    const block = chain.tick();
    for (const [sig, fee] of [[priced.signature, 15_000n], [defaulted.signature, 5_006n]] as const) {
      const t = chain.signatures.get(sig)!;
      expect(t.meta.fee).toBe(fee);
      expect(t.meta.preBalances[0]! - t.meta.postBalances[0]!).toBe(fee + 1n); // what LiteSVM took from the payer
    }
    const v = block.transactions.find((t) => t.signature === vote.signature)!;
    expect(v.meta.err).toBeNull();
    expect(v.keys).toEqual([validator.identity.publicKey.toBase58(), validator.voteAccount.toBase58(), "Vote111111111111111111111111111111111111111"]);
    expect(v.meta.logMessages.at(-1)).toBe("Program Vote111111111111111111111111111111111111111 success");
  });
});

describe("LiteSVM test chain with wallClock", () => {
  it("keeps the genesis block and gives later blocks wall-clock times that never go backwards", () => {
    const fixed = createSolanaChain();
    const chain = createSolanaChain({ wallClock: true });
    expect(chain.blocks.get(0)).toMatchObject({ blockhash: fixed.blocks.get(0)!.blockhash, blockTime: 1_700_000_000 });
    const before = Math.floor(Date.now() / 1000);
    const times = [chain.tick(), chain.tick({ skip: 1 }), chain.tick()].map((b) => b.blockTime);
    const after = Math.floor(Date.now() / 1000);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(before), expect(t).toBeLessThanOrEqual(after);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(chain.blockTimeOf(chain.canonical.at(-1)!)).toBe(times.at(-1));
    // The default stays a function of the slot.
    expect(fixed.tick().blockTime).toBe(1_700_000_000);
  });
});
