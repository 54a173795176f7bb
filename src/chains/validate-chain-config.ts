import type { ResolvedConfig } from "../lib/config.js";
import { isBackstopError } from "../lib/errors.js";
import { addressToScript } from "./bitcoin/address-to-script.js";
import { parseDescriptor } from "./bitcoin/descriptors.js";
import type { BitcoinNetworkName } from "./bitcoin/wallet-errors.js";
import { validateEvmChainConfig } from "./evm/build-ponder-plan.js";
import { validateSolanaConfig } from "./solana/create-solana-adapter.js";

/**
 * Chain-specific checks of a structurally valid config: addresses and
 * descriptors parse for their chain's network, nothing is watched twice.
 * Returns every problem with its config path (empty when valid).
 */
export function validateChainConfig(config: ResolvedConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  config.wallets.forEach((w, i) => {
    const chain = config.chains[w.chain];
    if (!chain) return;
    const at = `wallets[${i}]`;
    const why = (err: unknown) => (isBackstopError(err) ? err.shortMessage.replace(/\.$/, "") : String(err));
    if (chain.descriptor.kind === "bitcoin") {
      const network = chain.descriptor.network as BitcoinNetworkName;
      if (w.address) {
        try {
          addressToScript(w.address, network);
        } catch (err) {
          problems.push(`${at}.address: ${why(err)}`);
        }
      }
      if (w.descriptor) {
        try {
          parseDescriptor(w.descriptor, network);
        } catch (err) {
          problems.push(`${at}.descriptor: ${why(err)}`);
        }
      }
    }
    // A birthday below the chain's first indexed height would miss what the wallet received before it.
    if (w.birthday !== undefined) {
      const floor = chain.descriptor.kind === "solana" ? (chain as { birthdaySlot?: number }).birthdaySlot : chain.startHeight;
      const name = chain.descriptor.kind === "solana" ? "birthdaySlot" : "startHeight";
      if (floor !== undefined && w.birthday < floor) {
        problems.push(`${at}.birthday: ${w.birthday} is below chains.${w.chain}.${name} ${floor}; what the wallet received before ${floor} would never be indexed`);
      }
    }
    // The same address twice on one chain would count its reserves twice (TESTING.md F1).
    const key = `${w.chain}\u0000${w.address ?? w.descriptor}`;
    const prev = seen.get(key);
    if (prev) problems.push(`${at}: same ${w.address ? "address" : "descriptor"} as ${prev} on chain ${w.chain}`);
    else seen.set(key, at);
  });
  for (const [key, chain] of Object.entries(config.chains)) {
    if (chain.descriptor.kind === "evm") problems.push(...validateEvmChainConfig(config, key));
  }
  for (const key of Object.keys(config.chains)) if (config.chains[key]!.descriptor.kind === "solana") problems.push(...validateSolanaConfig(config, key));
  return problems;
}
