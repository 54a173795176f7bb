// Geometry of the coverage chart (SVG user units), from the history's exact basis-point strings.
// Import-free. Coordinates are pixels, not figures: the labels the page prints come from the strings.

export type ChartPoint = { x: number; y: number; seq: number; bps: string | null };
export type ChartSeries = { asset: string; points: ChartPoint[] };
export type CoverageChart = {
  width: number; height: number;
  plot: { left: number; right: number; top: number; bottom: number };
  /** Top of the y axis in basis points (an integer string), and where 100% sits. */
  yMaxBps: string; parY: number;
  yTicks: Array<{ y: number; label: string }>;
  xTicks: Array<{ x: number; label: string }>;
  series: ChartSeries[];
};

/** Coverage above this is drawn at the top edge (the axis tops out at 200%; the label keeps the exact figure). */
const CAP_BPS = 20_000n;

/**
 * Lays out one polyline per asset over the checkpoints (oldest left). The y axis runs from 0 to the
 * largest coverage shown, at least 110% and at most 200% (clamped points sit on the edge). A
 * checkpoint with no coverage figure (not anchored) leaves a gap in that asset's line (null y).
 */
export function computeCoverageChart(history: ReadonlyArray<{ seq: number; assets: ReadonlyArray<{ asset: string; coverageBps: string | null }> }>, p: { width?: number; height?: number } = {}): CoverageChart {
  const width = p.width ?? 900;
  const height = p.height ?? 240;
  const plot = { left: 56, right: width - 16, top: 12, bottom: height - 28 };
  let max = 11_000n;
  for (const h of history) for (const a of h.assets) if (a.coverageBps !== null && BigInt(a.coverageBps) > max) max = BigInt(a.coverageBps);
  if (max > CAP_BPS) max = CAP_BPS;
  // Round the top up to a whole 10%.
  max = ((max + 999n) / 1000n) * 1000n;
  const yOf = (bps: bigint) => plot.bottom - (Number(bps > max ? max : bps < 0n ? 0n : bps) / Number(max)) * (plot.bottom - plot.top);
  const n = history.length;
  const xOf = (i: number) => (n <= 1 ? (plot.left + plot.right) / 2 : plot.left + (i / (n - 1)) * (plot.right - plot.left));
  const assets = [...new Set(history.flatMap((h) => h.assets.map((a) => a.asset)))].sort();
  const series = assets.map((asset) => ({
    asset,
    points: history.flatMap((h, i) => {
      const a = h.assets.find((x) => x.asset === asset);
      if (!a) return [];
      return [{ x: xOf(i), y: a.coverageBps === null ? NaN : yOf(BigInt(a.coverageBps)), seq: h.seq, bps: a.coverageBps }];
    }),
  }));
  const yTicks: CoverageChart["yTicks"] = [];
  // Ticks at whole multiples of 25% (50% above 150%), so every label is exact.
  const step = max > 15_000n ? 5000n : 2500n;
  for (let t = 0n; t <= max; t += step) yTicks.push({ y: yOf(t), label: `${t / 100n}%` });
  const every = Math.max(1, Math.ceil(n / 8));
  const xTicks = history.flatMap((h, i) => (i % every === 0 || i === n - 1 ? [{ x: xOf(i), label: `#${h.seq}` }] : []));
  return { width, height, plot, yMaxBps: max.toString(), parY: yOf(10_000n), yTicks, xTicks, series };
}
