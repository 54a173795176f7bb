import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatUnits } from "../../src/lib/amounts.js";
import type { SignedCheckpoint } from "../../src/reconcile/checkpoint-document.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../src/reconcile/sign-checkpoint.js";
import { createSigningKey, parseSigningKey } from "../../src/reconcile/signing-key.js";
import { verifyCheckpoints } from "../../src/reconcile/verify-checkpoints.js";
import { buildJwks } from "../../src/reconcile/build-jwks.js";
import { computeCoverageChart } from "../../src/serve/public/page/compute-coverage-chart.js";
import { computeHeadline } from "../../src/serve/public/page/compute-headline.js";
import { formatBps, formatSigned, formatUnitsText } from "../../src/serve/public/page/format-display.js";
import { verifyCheckpointChain } from "../../src/serve/public/page/verify-checkpoint-chain.js";
import { buildCheckpointDocument } from "../../src/reconcile/build-checkpoint-document.js";
import { computeReserveWindow } from "../../src/reconcile/compute-reserve-window.js";
import { createPublicFixture, type PublicFixture } from "./public-fixture.js";

// The page's pure modules in Node: display strings agree with the CLI's formatter at any size; the
// headline rule; the chart's gaps and clamps; the in-browser checkpoint verifier agrees with the
// CLI's (src/reconcile/verify-checkpoints.ts) on genuine and tampered files.

describe("format-display", () => {
  it("prints base-unit strings exactly, grouped, at any size (values >= 2^64 included)", () => {
    expect(formatUnitsText("123400001234", 8)).toBe("1,234.00001234");
    expect(formatUnitsText("150000000", 8)).toBe("1.5");
    expect(formatUnitsText("0", 18)).toBe("0");
    expect(formatUnitsText("-25", 2)).toBe("-0.25");
    expect(formatUnitsText("-0", 2)).toBe("0");
    expect(formatUnitsText("36893488147419103232", 18)).toBe("36.893488147419103232"); // 2^65 wei
    expect(formatUnitsText("340282366920938463463374607431768211455", 0)).toBe("340,282,366,920,938,463,463,374,607,431,768,211,455");
    expect(formatSigned("1", 0)).toBe("+1");
    expect(formatSigned("-1", 0)).toBe("-1");
    expect(formatBps("10025")).toBe("100.25%");
    expect(formatBps("5")).toBe("0.05%");
    expect(formatBps("1234567")).toBe("12,345.67%");
    expect(formatBps(null)).toBe("n/a");
    expect(() => formatUnitsText("1.5", 8)).toThrow(RangeError);
    expect(() => formatUnitsText("1e3", 8)).toThrow(RangeError);
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), fc.integer({ min: 0, max: 40 }), (v, d) => {
      const cli = formatUnits(v < 0n ? -v : v, d);
      expect(formatUnitsText(v.toString(), d).replace(/,/g, "")).toBe(v < 0n ? `-${cli}` : cli);
    }));
  });
});

describe("compute-headline", () => {
  const doc = (over: Record<string, unknown> = {}) => ({
    seq: 7, status: "covered", snapshot: { asOfTime: 1_000_000 }, discrepancies: [],
    anchors: [{ chain: "btc", anchored: true, skewSeconds: 1, maxSkewSeconds: 10 }],
    assets: [{ asset: "BTC", status: "covered" }], ...over,
  }) as unknown as Parameters<typeof computeHeadline>[0]["latest"];
  const at = (latest: ReturnType<typeof doc> | null, nowS = 1_000_100, more: Partial<Parameters<typeof computeHeadline>[0]> = {}) => computeHeadline({ latest, nowS, staleAfterSeconds: 3600, ...more });

  it("covered, UNDER REVIEW (breach, not anchored, discrepancy, live breach), STALE; UNDER REVIEW wins over STALE", () => {
    expect(at(doc()).label).toBe("COVERED");
    expect(at(null).label).toBe("NO CHECKPOINT");
    expect(at(doc({ status: "breach", assets: [{ asset: "BTC", status: "breach" }] })).label).toBe("UNDER REVIEW");
    expect(at(doc({ status: "not_anchored", anchors: [{ chain: "btc", anchored: false, skewSeconds: 99, maxSkewSeconds: 10 }] })).reasons).toContain("btc: anchor 99s from the snapshot (max 10s): not anchored");
    expect(at(doc({ status: "discrepancy", discrepancies: [{}] })).label).toBe("UNDER REVIEW");
    expect(at(doc(), 1_000_100, { live: [{ asset: "BTC", status: "breach" }] }).reasons).toContain("BTC: live coverage (unsigned) is breach");
    expect(at(doc(), 1_000_000 + 3601).label).toBe("STALE");
    expect(at(doc(), 1_000_000 + 3600).label).toBe("COVERED");
    expect(at(doc(), 1_000_100, { serverSaysStale: true }).label).toBe("STALE");
    const both = at(doc({ status: "breach" }), 1_000_000 + 7200);
    expect(both.label).toBe("UNDER REVIEW");
    expect(both.reasons).toEqual(["checkpoint 7 status is breach", "the latest checkpoint is 2 h old (expected at least every 1 h)"]);
  });
});

describe("compute-coverage-chart", () => {
  it("leaves a gap for a checkpoint without a figure and clamps above 200% (the label keeps the exact figure)", () => {
    const chart = computeCoverageChart([
      { seq: 1, assets: [{ asset: "BTC", coverageBps: "10000" }] },
      { seq: 2, assets: [{ asset: "BTC", coverageBps: null }] },
      { seq: 3, assets: [{ asset: "BTC", coverageBps: "900000" }] },
    ]);
    expect(chart.yMaxBps).toBe("20000");
    const [a, b, c] = chart.series[0]!.points;
    expect(a!.y).toBe(chart.parY);
    expect(Number.isNaN(b!.y)).toBe(true);
    expect(c!.y).toBe(chart.plot.top);
    expect(c!.bps).toBe("900000");
    expect(chart.yTicks.map((t) => t.label)).toEqual(["0%", "50%", "100%", "150%", "200%"]);
  });
});

describe("verify-checkpoint-chain (the page's verifier) agrees with the CLI's", () => {
  let fx: PublicFixture;
  beforeAll(async () => {
    fx = await createPublicFixture({ checkpoints: [{ coverageBps: 10_100n }, { coverageBps: 10_200n }, { coverageBps: 9_900n }] });
  });
  afterAll(async () => fx?.close());

  it("genuine files pass both; each tampering fails both, the page naming its check", async () => {
    const jwks = buildJwks(fx.config.checkpoints.keys);
    const page = (texts: string[], keys = jwks) => verifyCheckpointChain({ files: texts.map((text) => ({ text })), jwks: keys, subtle: globalThis.crypto.subtle });
    const cli = (texts: string[], keys = jwks) => {
      try {
        verifyCheckpoints(texts.map((text, i) => ({ name: `${i + 1}.json`, text })), { jwks: keys });
        return "ok";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await page(fx.files)).toMatchObject({ ok: true, checked: fx.signed.map((s) => ({ seq: s.document.seq, digest: s.digest, kid: fx.key.jwk.kid })) });
    expect(cli(fx.files)).toBe("ok");
    const c2 = JSON.parse(fx.files[1]!) as SignedCheckpoint;
    const liab = c2.document.assets[0]!.liabilities;
    const tampered: Array<[string, string[], string]> = [
      ["changed digit", [fx.files[0]!, fx.files[1]!.replace(`"liabilities":"${liab}"`, `"liabilities":"${liab.slice(0, -1)}${liab.endsWith("1") ? "2" : "1"}"`), fx.files[2]!], "digest"],
      ["whitespace", [fx.files[0]!, JSON.stringify(c2, null, 1), fx.files[2]!], "canonical form"],
      ["broken previous link", [fx.files[0]!, formatSignedCheckpoint(signCheckpoint({ ...c2.document, previousDigest: `sha256:${"1".repeat(64)}` }, fx.key)), fx.files[2]!], "previous-digest chain"],
      ["key not in the JWKS", [fx.files[0]!, formatSignedCheckpoint(signCheckpoint(c2.document, parseSigningKey(createSigningKey().text))), fx.files[2]!], "key in the published JWKS"],
      ["missing checkpoint", [fx.files[0]!, fx.files[2]!], "sequence"],
      ["figures re-signed", [fx.files[0]!, formatSignedCheckpoint(signCheckpoint({ ...c2.document, assets: [{ ...c2.document.assets[0]!, coverageBps: "99999" }] }, fx.key)), fx.files[2]!], "coverage figures"],
    ];
    for (const [name, files, check] of tampered) {
      const r = await page(files);
      expect(r, name).toMatchObject({ ok: false, check });
      expect(cli(files), name).not.toBe("ok");
    }
    // A key outside its validity window.
    const late = { keys: jwks.keys.map((k) => ({ ...k, nbf: fx.signed[0]!.document.snapshot.asOfTime + 1 })) };
    expect(await page(fx.files, late)).toMatchObject({ ok: false, seq: 1, check: "key validity window" });
    expect(cli(fx.files, late)).not.toBe("ok");
  });

  it("reads version 2 after version 1: window figures and the window_dressing flag checked, a dropped flag refused", async () => {
    const jwks = buildJwks(fx.config.checkpoints.keys);
    const c1 = JSON.parse(fx.files[0]!) as SignedCheckpoint;
    const c2 = JSON.parse(fx.files[1]!) as SignedCheckpoint;
    const anchor = c2.document.anchors[0]!;
    const total = 300_000_000n;
    const changes = [{ walletId: 1, asset: "BTC-btc", height: anchor.height, txid: "in", delta: 200_000_000n }, { walletId: 1, asset: "BTC-btc", height: anchor.height + 1, txid: "out", delta: -200_000_000n }];
    const v2 = buildCheckpointDocument({
      seq: 2, previousDigest: c1.digest, invalidates: null, snapshot: c2.document.snapshot,
      liabilities: [{ asset: "BTC", decimals: 8, total: 100_000_000n }],
      chainAssets: [{ id: "BTC-btc", chain: anchor.chain, decimals: 8, backs: "BTC" }],
      chains: [{
        anchor, totals: { "BTC-btc": total }, countedWallets: 1, excluded: [], addressEntries: ["bc1qexample"], discrepancies: [],
        window: { blocks: 3, walletLabels: new Map([[1, "cold"]]), assets: computeReserveWindow({ anchorHeight: anchor.height, windowBlocks: 3, assets: ["BTC-btc"], anchorBalances: new Map([[1, new Map([["BTC-btc", total]])]]), changes }) },
      }],
      windowDressingBps: 1000,
    });
    expect(v2.flags!.map((f) => f.type)).toEqual(["window_dressing"]);
    const files = [fx.files[0]!, formatSignedCheckpoint(signCheckpoint(v2, fx.key))];
    expect(await verifyCheckpointChain({ files: files.map((text) => ({ text })), jwks, subtle: globalThis.crypto.subtle })).toMatchObject({ ok: true });
    expect(verifyCheckpoints(files.map((text, i) => ({ name: `${i}`, text })), { jwks }).checked).toHaveLength(2);
    const hidden = [fx.files[0]!, formatSignedCheckpoint(signCheckpoint({ ...v2, flags: [] }, fx.key))];
    expect(await verifyCheckpointChain({ files: hidden.map((text) => ({ text })), jwks, subtle: globalThis.crypto.subtle })).toMatchObject({ ok: false, seq: 2, check: "coverage figures" });
    expect(() => verifyCheckpoints(hidden.map((text, i) => ({ name: `${i}`, text })), { jwks })).toThrow(/window dressing is not listed in flags/);
  });
});
