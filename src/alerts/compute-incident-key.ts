import { createHash } from "node:crypto";
import type { AlertDraft } from "./types.js";

/**
 * The incident key of a draft: `inc_` + the first 32 hex of SHA-256 over the rule name and its scope
 * (chain, wallet, asset, extra), NUL-separated. Stable across restarts and processes: repeats of a rule
 * for one scope group into one incident, and PagerDuty's dedup_key is this key.
 */
export function computeIncidentKey(d: Pick<AlertDraft, "rule" | "scope">): string {
  const parts = [d.rule.name, d.scope.chain ?? "", d.scope.wallet ?? "", d.scope.asset ?? "", d.scope.extra ?? ""];
  return `inc_${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32)}`;
}

/** A stable id with a prefix: the first 32 hex of SHA-256 over the parts (alert ids, message ids). */
export function computeStableId(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32)}`;
}
