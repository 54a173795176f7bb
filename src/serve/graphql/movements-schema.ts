import { GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString, type GraphQLNullableType, type GraphQLOutputType } from "graphql";
import type { RunningDifferenceLine } from "../../reconcile/movements/compute-running-difference.js";
import { loadRunningDifference } from "../../reconcile/movements/load-running-difference.js";
import { AmountType, checkDeadline, type GraphqlContext, type SchemaModule } from "./types.js";

const nn = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(t);
const list = <T extends GraphQLNullableType & GraphQLOutputType>(t: T) => new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(t)));

type LineValue = RunningDifferenceLine & { decimals: number };
const amount = (pick: (l: LineValue) => bigint) => ({ type: nn(AmountType), resolve: (l: LineValue) => ({ value: pick(l), decimals: l.decimals }) });

const RunningDifferenceLineType = new GraphQLObjectType<LineValue, GraphqlContext>({
  name: "RunningDifferenceLine",
  description: "One asset of the running difference (issue 14, item 4): liabilities by the platform's records since the base against reserves at the latest final blocks. Assets are compared by id, never netted across ids.",
  fields: {
    asset: { type: nn(GraphQLString), description: "The asset id (a chain asset, or a liability asset of the base)." },
    baseLiabilities: { ...amount((l) => l.baseLiabilities), description: "Liabilities at the base." },
    deposits: { ...amount((l) => l.deposits), description: "Deposit records since the base (credited to users)." },
    withdrawals: { ...amount((l) => l.withdrawals), description: "Withdrawal records since the base whose movement is on chain." },
    liabilities: { ...amount((l) => l.liabilities), description: "baseLiabilities + deposits − withdrawals." },
    reserves: { ...amount((l) => l.reserves), description: "Counted custody balances at each chain's latest finalized block." },
    difference: { ...amount((l) => l.difference), description: "reserves − liabilities, signed (`value` may start with `-`): drift from zero beyond `inFlight` is a discrepancy." },
    inFlight: { ...amount((l) => l.inFlight), description: "Withdrawal records since the base not (yet) on chain: owed to no user, still in custody." },
  },
});

type RunningDifferenceValue = { source: string; baseId: string; baseAtMs: number; lines: LineValue[]; heights: Array<{ chain: string; height: number | null }> };
const RunningDifferenceType = new GraphQLObjectType<RunningDifferenceValue, GraphqlContext>({
  name: "RunningDifference",
  description: "The live, record-driven view of coverage between snapshots: per asset, liabilities at the base + credited deposits − completed withdrawals, against reserves at the latest finalized blocks. Unsigned, live.",
  fields: {
    source: { type: nn(GraphQLString), description: "What the base is: `liabilities_snapshot` (the latest imported snapshot) or `checkpoint`." },
    baseId: { type: nn(GraphQLString), description: "The base's id (snapshot id, or checkpoint seq)." },
    baseAt: { type: nn(GraphQLString), description: "The base's as-of time, RFC 3339 UTC with ms; records with a later time count.", resolve: (d) => new Date(d.baseAtMs).toISOString() },
    heights: {
      type: list(new GraphQLObjectType({ name: "RunningDifferenceHeight", fields: { chain: { type: nn(GraphQLString) }, height: { type: GraphQLInt } } })),
      description: "Per configured chain, the finalized height its reserves are as of (null: no final block yet).",
    },
    lines: { type: list(RunningDifferenceLineType), description: "Per asset, sorted by id." },
  },
});

/** `runningDifference`: the record-driven running difference (the same figures as `backstop status` and `movements difference --json`). */
export const movementsSchema: SchemaModule = {
  query: {
    runningDifference: {
      type: RunningDifferenceType,
      description: "The running difference per asset since the base (null before a liabilities snapshot exists).",
      resolve: async (_r, _a, ctx): Promise<RunningDifferenceValue | null> => {
        checkDeadline(ctx);
        const d = await loadRunningDifference(ctx.q, ctx.config);
        if (!d) return null;
        const decimalsOf = (asset: string) => ctx.config.assets[asset]?.decimals ?? ctx.config.liabilityAssets[asset]?.decimals ?? 0;
        return {
          source: d.base.source, baseId: d.base.id, baseAtMs: d.base.atMs,
          heights: Object.entries(d.finalized).sort(([a], [b]) => (a < b ? -1 : 1)).map(([chain, height]) => ({ chain, height })),
          lines: d.lines.map((l) => ({ ...l, decimals: decimalsOf(l.asset) })),
        };
      },
    },
  },
};
