/** Which block time the anchor rule compares with the snapshot's time. */
export type AnchorRule = "median-time-past" | "block-time";

/** A stored block header (time in unix seconds); `parentHash` links it to its parent across skipped Solana slots. */
export type AnchorHeader = { height: number; hash: string; time: number; parentHash?: string };

export type ChooseAnchorParameters = {
  /** Consecutive headers in ascending height order, up to at least the finalized height (more are ignored). */
  headers: readonly AnchorHeader[];
  /** The chain's finalized height (null: nothing final yet). */
  finalizedHeight: number | null;
  /** The snapshot's time T, unix seconds. */
  asOf: number;
  rule: AnchorRule;
};

/** The anchor, or why there is none yet. */
export type AnchorChoice =
  | { kind: "anchor"; height: number; hash: string; time: number; ruleTime: number }
  /** No finalized block after T yet: the checkpoint waits. */
  | { kind: "wait" }
  /** The first block after T is the first block the headers hold: the anchor's header is not available (pruned, or T precedes the indexed range). */
  | { kind: "unavailable"; problem: string };

/**
 * The anchor rule: the block just before the first finalized block whose rule time is after T. For
 * monotone times that is "the last finalized block whose time is at or before T"; with times that go
 * backwards (Bitcoin allows a block time below its parent's) it is still one block, fixed as soon as a
 * block after T is final, and it never moves afterwards. Bitcoin uses the median time past (median of the
 * block's and its 10 predecessors' times; BIP 113), which never decreases; EVM and Solana the block time.
 * Only finalized blocks are looked at. Pure.
 */
export function chooseAnchor(p: ChooseAnchorParameters): AnchorChoice {
  if (p.finalizedHeight === null) return { kind: "wait" };
  const byHeight = new Map(p.headers.map((h) => [h.height, h]));
  const first = p.headers[0];
  if (!first) return { kind: "wait" };
  const ruleTime = (h: AnchorHeader): number | undefined => {
    if (p.rule === "block-time") return h.time;
    const times: number[] = [];
    for (let k = Math.max(0, h.height - 10); k <= h.height; k++) {
      const x = byHeight.get(k);
      if (!x) return undefined;
      times.push(x.time);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  };
  let previous: { header: AnchorHeader; ruleTime: number } | undefined;
  for (const h of p.headers) {
    if (h.height > p.finalizedHeight) break;
    const t = ruleTime(h);
    if (t === undefined) {
      previous = undefined; // its predecessors are pruned: it cannot be an anchor
      continue;
    }
    if (t > p.asOf) {
      // Its parent must be the previous stored header: the next height, or (Solana) across skipped slots by hash.
      const parentStored = previous && (previous.header.height === h.height - 1 || (h.parentHash !== undefined && h.parentHash === previous.header.hash));
      if (!previous || !parentStored) {
        return { kind: "unavailable", problem: `the first finalized block after the snapshot's time is ${h.height}, and the header before it is not stored (pruned, or the snapshot predates the indexed range)` };
      }
      return { kind: "anchor", height: previous.header.height, hash: previous.header.hash, time: previous.header.time, ruleTime: previous.ruleTime };
    }
    previous = { header: h, ruleTime: t };
  }
  return { kind: "wait" };
}
