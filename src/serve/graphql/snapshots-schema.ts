import { GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString } from "graphql";
import { loadSnapshots, type SnapshotSummary } from "../../liabilities/load-snapshot.js";
import { afterArgument, AmountType, checkDeadline, createConnectionType, decodeCursor, encodeCursor, firstArgument, type GraphqlContext, type SchemaModule } from "./types.js";

const SnapshotTotalType = new GraphQLObjectType<SnapshotSummary["assets"][number], GraphqlContext>({
  name: "SnapshotTotal",
  description: "One asset's total liabilities in a snapshot (the Merkle-sum root's sum).",
  fields: {
    asset: { type: new GraphQLNonNull(GraphQLString), resolve: (t) => t.id },
    total: { type: new GraphQLNonNull(AmountType), resolve: (t) => ({ value: t.total, decimals: t.decimals }) },
  },
});

const SnapshotType = new GraphQLObjectType<SnapshotSummary, GraphqlContext>({
  name: "Snapshot",
  description: "An imported liabilities snapshot: its public summary (totals and root); no per-account data.",
  fields: {
    id: { type: new GraphQLNonNull(GraphQLString), resolve: (s) => s.snapshotId },
    asOf: { type: new GraphQLNonNull(GraphQLString), description: "As given at import (ISO-8601 with offset)." },
    importedAt: { type: new GraphQLNonNull(GraphQLString) },
    root: { type: new GraphQLNonNull(GraphQLString), description: "Merkle-sum root commitment (hex)." },
    contentHash: { type: new GraphQLNonNull(GraphQLString), description: "SHA-256 of the imported file (hex)." },
    rowCount: { type: new GraphQLNonNull(GraphQLInt) },
    accountCount: { type: new GraphQLNonNull(GraphQLInt) },
    totals: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(SnapshotTotalType))), resolve: (s) => s.assets },
  },
});
const SnapshotConnectionType = createConnectionType("Snapshot", SnapshotType, "A page of snapshots, newest as-of first.");

/** `snapshots(first, after)`. */
export const snapshotsSchema: SchemaModule = {
  query: {
    snapshots: {
      type: new GraphQLNonNull(SnapshotConnectionType),
      description: "Imported liabilities snapshots, newest as-of first (ties: latest import).",
      args: { first: firstArgument(20), after: afterArgument },
      resolve: async (_r, a: { first: number; after?: string | null }, ctx) => {
        const afterId = a.after ? (decodeCursor("snap", a.after, ["string"])[0] as string) : undefined;
        checkDeadline(ctx);
        // Snapshots are few (one per import) and immutable: the ordered list, then the page after the cursor's id.
        const all = await loadSnapshots(ctx.store);
        const start = afterId === undefined ? 0 : all.findIndex((s) => s.snapshotId === afterId) + 1;
        if (afterId !== undefined && start === 0) return { nodes: [], pageInfo: { endCursor: null, hasNextPage: false } };
        const nodes = all.slice(start, start + a.first);
        const last = nodes.at(-1);
        return { nodes, pageInfo: { endCursor: last ? encodeCursor("snap", [last.snapshotId]) : null, hasNextPage: start + a.first < all.length } };
      },
    },
  },
};
