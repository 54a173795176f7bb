import { GraphQLBoolean, GraphQLEnumType, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLString } from "graphql";
import { loadAlerts, saveAlertAck, type ListedAlert } from "../../alerts/load-alerts.js";
import { afterArgument, checkDeadline, checkTextArgument, createConnectionType, decodeCursor, encodeCursor, firstArgument, requireConfiguredChain, type GraphqlContext, type SchemaModule } from "./types.js";

const SeverityType = new GraphQLEnumType({ name: "AlertSeverity", values: { critical: {}, error: {}, warning: {}, info: {} } });

const DeliveryType = new GraphQLObjectType<ListedAlert["deliveries"][number], GraphqlContext>({
  name: "AlertDelivery",
  description: "One outbox message of an alert to one sink.",
  fields: {
    sink: { type: new GraphQLNonNull(GraphQLString), description: "Sink name from the config." },
    event: { type: new GraphQLNonNull(GraphQLString), description: "alert.firing, alert.resolved, alert.finalized or alert.withdrawn." },
    status: { type: new GraphQLNonNull(GraphQLString), description: "pending, delivered, cancelled (withdrawn before delivery) or failed." },
    attempts: { type: new GraphQLNonNull(GraphQLInt) },
    lastError: { type: GraphQLString, resolve: (d) => d.last_error },
  },
});

const AlertType = new GraphQLObjectType<ListedAlert, GraphqlContext>({
  name: "Alert",
  description: "An alert raised by a rule. Amounts in `values` are base-unit decimal strings.",
  fields: {
    id: { type: new GraphQLNonNull(GraphQLString) },
    incidentKey: { type: new GraphQLNonNull(GraphQLString), description: "Stable hash of (rule, scope): repeats share it; PagerDuty's dedup_key.", resolve: (a) => a.incident_key },
    incidentStatus: { type: new GraphQLNonNull(GraphQLString), description: "firing or resolved (the incident's, now).", resolve: (a) => a.incident_status },
    rule: { type: new GraphQLNonNull(GraphQLString) },
    type: { type: new GraphQLNonNull(GraphQLString), description: "The rule's type (outflow, reorg, ...)." },
    severity: { type: new GraphQLNonNull(SeverityType), description: "info while the movement's block is unfinalized; the rule's severity once final." },
    status: { type: new GraphQLNonNull(GraphQLString), description: "firing or resolved." },
    finality: { type: new GraphQLNonNull(GraphQLString), description: "final, unfinalized, or none (not about a block)." },
    withdrawn: { type: new GraphQLNonNull(GraphQLBoolean), description: "True when a reorg removed the block that raised it.", resolve: (a) => a.state === "withdrawn" },
    chain: { type: GraphQLString },
    wallet: { type: GraphQLString },
    asset: { type: GraphQLString },
    txids: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) },
    height: { type: GraphQLInt },
    blockHash: { type: GraphQLString, resolve: (a) => a.block_hash },
    summary: { type: new GraphQLNonNull(GraphQLString) },
    values: { type: new GraphQLNonNull(GraphQLString), description: "The values that crossed the threshold, as a JSON object.", resolve: (a) => JSON.stringify(a.values) },
    runbook: { type: GraphQLString },
    createdAt: { type: new GraphQLNonNull(GraphQLString), resolve: (a) => a.created_at },
    acknowledgedAt: { type: GraphQLString, resolve: (a) => a.acknowledged_at },
    acknowledgedBy: { type: GraphQLString, resolve: (a) => a.acknowledged_by },
    deliveries: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(DeliveryType))) },
  },
});
const AlertConnectionType = createConnectionType("Alert", AlertType, "A page of alerts, newest first.");

/** `alerts(first, after, open, chain)` and `acknowledgeAlert(id)` (scope alerts:write). */
export const alertsSchema: SchemaModule = {
  query: {
    alerts: {
      type: new GraphQLNonNull(AlertConnectionType),
      description: "Alerts, newest first. `open`: only firing, unacknowledged, not withdrawn.",
      args: { first: firstArgument(50), after: afterArgument, open: { type: GraphQLBoolean, defaultValue: false }, chain: { type: GraphQLString } },
      resolve: async (_r, a: { first: number; after?: string | null; open: boolean; chain?: string | null }, ctx) => {
        const before = a.after ? decodeCursor("alert", a.after, ["int", "string"]) : undefined;
        const chain = a.chain ? requireConfiguredChain(ctx, a.chain) : undefined;
        checkDeadline(ctx);
        const rows = await loadAlerts(ctx.q, { open: a.open, chain, limit: a.first + 1, before: before ? { createdAtMs: before[0] as number, id: before[1] as string } : undefined });
        const nodes = rows.slice(0, a.first);
        const last = nodes.at(-1);
        return { nodes, pageInfo: { endCursor: last ? encodeCursor("alert", [last.created_at_ms, last.id]) : null, hasNextPage: rows.length > a.first } };
      },
    },
  },
  mutation: {
    acknowledgeAlert: {
      type: new GraphQLNonNull(AlertType),
      description: "Acknowledges an alert and its incident (recorded with the API key's name). Needs scope alerts:write.",
      extensions: { scope: "alerts:write" },
      args: { id: { type: new GraphQLNonNull(GraphQLString) } },
      resolve: async (_r, a: { id: string }, ctx) => {
        const id = checkTextArgument("id", a.id, 64);
        await saveAlertAck(ctx.store, { id, by: `api:${ctx.key.name}` });
        const [row] = await loadAlerts(ctx.store, { id });
        return row!;
      },
    },
  },
};
