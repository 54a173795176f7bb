import { describe, expect, it } from "vitest";
import { chooseAnchor, type AnchorHeader } from "../../src/reconcile/choose-anchor.js";

const headers = (times: number[], from = 0): AnchorHeader[] => times.map((time, i) => ({ height: from + i, hash: `h${from + i}`, time }));

describe("chooseAnchor", () => {
  it("the last finalized block at or before T when times increase", () => {
    expect(chooseAnchor({ headers: headers([100, 200, 300, 400]), finalizedHeight: 3, asOf: 250, rule: "block-time" })).toEqual({ kind: "anchor", height: 1, hash: "h1", time: 200, ruleTime: 200 });
    expect(chooseAnchor({ headers: headers([100, 200, 300, 400]), finalizedHeight: 3, asOf: 300, rule: "block-time" })).toMatchObject({ height: 2 });
  });
  it("waits while no finalized block is after T (unfinalized blocks never count)", () => {
    expect(chooseAnchor({ headers: headers([100, 200, 300, 400]), finalizedHeight: 2, asOf: 300, rule: "block-time" })).toEqual({ kind: "wait" });
    expect(chooseAnchor({ headers: headers([100]), finalizedHeight: null, asOf: 50, rule: "block-time" })).toEqual({ kind: "wait" });
  });
  it("times that go backwards (Bitcoin allows a block below its parent's time): the block before the first block after T, fixed once that block is final", () => {
    // 3 is stamped after T, 4 goes back before T: the anchor stays 2 and never moves when 4 and 5 arrive.
    const h = headers([100, 200, 240, 320, 230, 400]);
    expect(chooseAnchor({ headers: h, finalizedHeight: 3, asOf: 250, rule: "block-time" })).toMatchObject({ kind: "anchor", height: 2 });
    expect(chooseAnchor({ headers: h, finalizedHeight: 5, asOf: 250, rule: "block-time" })).toMatchObject({ kind: "anchor", height: 2 });
  });
  it("median time past is monotone even when block times are not (the alternative rule, kept for the record)", () => {
    const h = headers([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 35, 120, 130, 140, 150, 160, 170]);
    const a = chooseAnchor({ headers: h, finalizedHeight: 17, asOf: 75, rule: "median-time-past" });
    expect(a).toMatchObject({ kind: "anchor" });
    // MTP trails block time: the anchor's own block time is past T (why checkpoints use block time).
    if (a.kind === "anchor") expect(a.time).toBeGreaterThan(75);
  });
  it("unavailable when the header before the first block after T is not stored (pruned)", () => {
    expect(chooseAnchor({ headers: headers([300, 400], 10), finalizedHeight: 11, asOf: 250, rule: "block-time" })).toMatchObject({ kind: "unavailable" });
  });
  it("Solana's skipped slots: the parent across the gap (by hash) is the anchor; a gap without that link is not", () => {
    const h: AnchorHeader[] = [
      { height: 17, hash: "s17", parentHash: "s16", time: 200 },
      { height: 20, hash: "s20", parentHash: "s17", time: 300 }, // slots 18 and 19 skipped
    ];
    expect(chooseAnchor({ headers: h, finalizedHeight: 20, asOf: 250, rule: "block-time" })).toEqual({ kind: "anchor", height: 17, hash: "s17", time: 200, ruleTime: 200 });
    expect(chooseAnchor({ headers: [h[0]!, { ...h[1]!, parentHash: "s19" }], finalizedHeight: 20, asOf: 250, rule: "block-time" })).toMatchObject({ kind: "unavailable" });
  });
});
