import type { ResolvedConfig } from "../../lib/config.js";
import { loadWalletAddresses, saveWalletAddresses, saveWallets, type Store, type WalletAddressInput, type WalletAddressRow } from "../../store/index.js";
import { addressToScript } from "./address-to-script.js";
import { computeDerivationTarget, deriveScripts, parseDescriptor } from "./descriptors.js";
import type { BitcoinNetworkName } from "./wallet-errors.js";

/**
 * Saves the chain's configured wallets and derives their watched scripts: one
 * per address wallet; for descriptor wallets, every branch up to `gapLimit`
 * unused addresses past the highest used one (used = seen in a stored block,
 * or listed in `alsoUsed` by the block being applied). Returns all the chain's addresses.
 * @throws InvalidAddressError, DescriptorInvalidError (validated at config load, so only on a changed config)
 */
export async function syncWalletAddresses(p: {
  store: Store;
  config: ResolvedConfig;
  chainKey: string;
  alsoUsed?: readonly number[];
}): Promise<WalletAddressRow[]> {
  const chain = p.config.chains[p.chainKey]!;
  const network = chain.descriptor.network as BitcoinNetworkName;
  const configured = p.config.wallets.filter((w) => w.chain === p.chainKey);
  const rows = await saveWallets(
    p.store,
    configured.map((w) => ({
      chain: p.chainKey,
      label: w.label,
      kind: w.descriptor ? "descriptor" : "address",
      address: w.address ?? null,
      descriptor: w.descriptor ?? null,
      gapLimit: w.descriptor ? w.gapLimit : null,
    })),
  );
  const existing = await loadWalletAddresses(p.store, { chain: p.chainKey });
  const used = new Set(p.alsoUsed ?? []);
  const missing: WalletAddressInput[] = [];
  for (const [i, w] of configured.entries()) {
    const row = rows[i]!;
    const mine = existing.filter((a) => a.walletId === row.id);
    if (w.address) {
      if (!mine.length) missing.push({ walletId: row.id, chain: p.chainKey, kind: "address", address: w.address, script: addressToScript(w.address, network).scriptHex });
      continue;
    }
    const d = parseDescriptor(w.descriptor!, network);
    for (let branch = 0; branch < d.branchCount; branch++) {
      const ofBranch = mine.filter((a) => a.branch === branch);
      const usedIdx = ofBranch.filter((a) => a.firstSeenHeight !== null || used.has(a.id)).map((a) => a.index!);
      const target = computeDerivationTarget(usedIdx, w.gapLimit);
      const have = ofBranch.length ? Math.max(...ofBranch.map((a) => a.index!)) + 1 : 0;
      if (target > have) {
        for (const s of deriveScripts(d, branch, have, target - have)) {
          missing.push({ walletId: row.id, chain: p.chainKey, kind: "derived", address: s.address, script: s.scriptHex, branch, index: s.index });
        }
      }
    }
  }
  if (!missing.length) return existing;
  return saveWalletAddresses(p.store, { chain: p.chainKey, addresses: missing });
}
