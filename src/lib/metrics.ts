// Backstop's Prometheus metrics: one registry, every metric defined here, small record functions
// for the code that emits them. Importable from anywhere (it pulls in prom-client only, never the
// server). Naming (SERVING.md §4): `backstop_` prefix, base units (`_seconds`), `_total` on counters,
// and labels only from bounded, operator-controlled sets (chain keys, provider hosts, RPC method
// names, outcomes): never an address, a user, a key or free text.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The process's metrics registry (not prom-client's global one, so nothing else leaks into it). */
export const METRICS_REGISTRY = new Registry();

let processMetrics = false;
/**
 * Adds prom-client's process metrics (CPU, memory, event-loop lag, GC) as `backstop_process_*` etc.
 * Called by the server, not at import: Ponder imports every module under src/, which must do
 * nothing when imported.
 */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: METRICS_REGISTRY, prefix: "backstop_" });
}

/** Latency buckets for RPC and GraphQL requests, seconds (1 ms .. 30 s). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Store transactions: sub-millisecond on SQLite, up to seconds for a snapshot import. */
const TX_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30];

const rpcRequests = new Counter({
  name: "backstop_rpc_requests_total",
  help: "JSON-RPC requests sent, by chain, provider host and method.",
  labelNames: ["chain", "provider", "method"] as const,
  registers: [METRICS_REGISTRY],
});
const rpcErrors = new Counter({
  name: "backstop_rpc_errors_total",
  help: "JSON-RPC requests that failed, by chain, provider host, method and code (an RPC__* error code, json_rpc_error for an error answer, http_status for a non-2xx one).",
  labelNames: ["chain", "provider", "method", "code"] as const,
  registers: [METRICS_REGISTRY],
});
const rpcDuration = new Histogram({
  name: "backstop_rpc_request_duration_seconds",
  help: "JSON-RPC request latency (until the body is read), by chain, provider host and method.",
  labelNames: ["chain", "provider", "method"] as const,
  buckets: REQUEST_BUCKETS,
  registers: [METRICS_REGISTRY],
});
const storeTxDuration = new Histogram({
  name: "backstop_store_transaction_duration_seconds",
  help: "Store write transaction latency (BEGIN to COMMIT or ROLLBACK), by dialect and outcome.",
  labelNames: ["dialect", "outcome"] as const,
  buckets: TX_BUCKETS,
  registers: [METRICS_REGISTRY],
});
const blocksIndexed = new Counter({
  name: "backstop_blocks_indexed_total",
  help: "Blocks (Solana: slots) applied to the store by this process, by chain.",
  labelNames: ["chain"] as const,
  registers: [METRICS_REGISTRY],
});
const reorgs = new Counter({
  name: "backstop_reorgs_total",
  help: "Reorgs handled (rolled back to a common ancestor) by this process, by chain.",
  labelNames: ["chain"] as const,
  registers: [METRICS_REGISTRY],
});
const reorgDepth = new Histogram({
  name: "backstop_reorg_depth_blocks",
  help: "Depth of each reorg handled, in blocks, by chain.",
  labelNames: ["chain"] as const,
  buckets: [1, 2, 3, 5, 8, 13, 21, 34, 65, 128, 256],
  registers: [METRICS_REGISTRY],
});
const chainHead = new Gauge({
  name: "backstop_chain_head_height",
  help: "The node's head height as last seen by this process's indexer, by chain.",
  labelNames: ["chain"] as const,
  registers: [METRICS_REGISTRY],
});

/** Per-chain heights read from the store at scrape time (so any serve process reports them, not only the indexer's). */
export const STORE_GAUGES = {
  indexedHeight: new Gauge({
    name: "backstop_chain_indexed_height",
    help: "Height of the last block applied to the store (the chain's cursor), by chain.",
    labelNames: ["chain"] as const,
    registers: [METRICS_REGISTRY],
  }),
  finalizedHeight: new Gauge({
    name: "backstop_chain_finalized_height",
    help: "Highest height recorded as final in the store, by chain (absent until one is).",
    labelNames: ["chain"] as const,
    registers: [METRICS_REGISTRY],
  }),
  indexedBlockTime: new Gauge({
    name: "backstop_chain_indexed_block_timestamp_seconds",
    help: "Timestamp (unix seconds, the block's own) of the last block applied to the store, by chain.",
    labelNames: ["chain"] as const,
    registers: [METRICS_REGISTRY],
  }),
  snapshotsImported: new Gauge({
    name: "backstop_snapshots_imported",
    help: "Liability snapshots in the store (imports are all or nothing and never deleted, so this only grows).",
    registers: [METRICS_REGISTRY],
  }),
  lastSnapshotImportedTime: new Gauge({
    name: "backstop_snapshot_last_imported_timestamp_seconds",
    help: "When the most recently imported liability snapshot was imported, unix seconds (absent before the first).",
    registers: [METRICS_REGISTRY],
  }),
  checkpoints: new Gauge({
    name: "backstop_checkpoints",
    help: "Signed checkpoints in the store, by status (covered, breach, not_anchored, discrepancy); superseded ones included.",
    labelNames: ["status"] as const,
    registers: [METRICS_REGISTRY],
  }),
  lastCheckpointTime: new Gauge({
    name: "backstop_checkpoint_last_created_timestamp_seconds",
    help: "When the latest checkpoint was appended (database clock), unix seconds (absent before the first).",
    registers: [METRICS_REGISTRY],
  }),
  liveCoverageBps: new Gauge({
    name: "backstop_live_coverage_bps",
    help: "Live coverage per liability asset, floor(reserves x 10000 / liabilities) basis points, at each chain's finalized height (absent when liabilities are 0).",
    labelNames: ["asset"] as const,
    registers: [METRICS_REGISTRY],
  }),
  alerts: new Gauge({
    name: "backstop_alerts",
    help: "Alerts in the store (withdrawn ones excluded), by rule name (from the config) and severity.",
    labelNames: ["rule", "severity"] as const,
    registers: [METRICS_REGISTRY],
  }),
  alertsOpen: new Gauge({
    name: "backstop_alerts_open",
    help: "Alerts firing, unacknowledged and not withdrawn, by rule name and severity.",
    labelNames: ["rule", "severity"] as const,
    registers: [METRICS_REGISTRY],
  }),
  oldestUndeliveredAlertAge: new Gauge({
    name: "backstop_alert_oldest_undelivered_age_seconds",
    help: "Age of the oldest pending alert outbox message (database clock), seconds; 0 when none is pending.",
    registers: [METRICS_REGISTRY],
  }),
};

const graphqlRequests = new Counter({
  name: "backstop_graphql_requests_total",
  help: "Requests to /graphql, by HTTP status code.",
  labelNames: ["status"] as const,
  registers: [METRICS_REGISTRY],
});
const graphqlRejections = new Counter({
  name: "backstop_graphql_rejections_total",
  help: "Requests to /graphql refused before any resolver ran, by reason (auth, scope, rate_limit, body_size, batch, depth, aliases, directives, tokens, cost, page_size, invalid, method, json_depth, query_string_key).",
  labelNames: ["reason"] as const,
  registers: [METRICS_REGISTRY],
});
const graphqlDuration = new Histogram({
  name: "backstop_graphql_request_duration_seconds",
  help: "GraphQL request latency (body read to response written), by operation type (query, mutation, or none when refused).",
  labelNames: ["operation"] as const,
  buckets: REQUEST_BUCKETS,
  registers: [METRICS_REGISTRY],
});

/** Records one JSON-RPC request: its latency in seconds and, when it failed, the error code. */
export function recordRpcRequest(p: { chain: string; provider: string; method: string; seconds: number; errorCode?: string }): void {
  const labels = { chain: p.chain, provider: p.provider, method: p.method };
  rpcRequests.inc(labels);
  rpcDuration.observe(labels, p.seconds);
  if (p.errorCode) rpcErrors.inc({ ...labels, code: p.errorCode });
}

/** Records one store write transaction's latency, seconds. */
export function recordStoreTransaction(p: { dialect: string; seconds: number; ok: boolean }): void {
  storeTxDuration.observe({ dialect: p.dialect, outcome: p.ok ? "commit" : "rollback" }, p.seconds);
}

/** Records `n` blocks (slots) applied to the store for `chain` (for the chain follower to call). */
export function recordBlocksIndexed(chain: string, n: number): void {
  blocksIndexed.inc({ chain }, n);
}

/** Records one reorg of `depth` blocks handled on `chain` (for the chain follower to call). */
export function recordReorg(chain: string, depth: number): void {
  reorgs.inc({ chain });
  reorgDepth.observe({ chain }, depth);
}

/** Records the node's head height as seen by the indexer of `chain` (for the chain follower to call). */
export function recordChainHead(chain: string, height: number): void {
  chainHead.set({ chain }, height);
}

/** Records one /graphql request: its HTTP status, operation type and latency in seconds. */
export function recordGraphqlRequest(p: { status: number; operation: string; seconds: number }): void {
  graphqlRequests.inc({ status: String(p.status) });
  graphqlDuration.observe({ operation: p.operation }, p.seconds);
}

/** Records a /graphql request refused before execution, by a reason from a fixed list. */
export function recordGraphqlRejection(reason: string): void {
  graphqlRejections.inc({ reason });
}

const alertDeliveries = new Counter({
  name: "backstop_alert_deliveries_total",
  help: "Alert delivery attempts, by sink name (from the config) and outcome (delivered, retry, failed, disabled, refused).",
  labelNames: ["sink", "outcome"] as const,
  registers: [METRICS_REGISTRY],
});
const alertDeliveryLatency = new Histogram({
  name: "backstop_alert_delivery_latency_seconds",
  help: "From an alert's outbox row being written to its receiver's 2xx, by sink name.",
  labelNames: ["sink"] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86_400],
  registers: [METRICS_REGISTRY],
});

/** Records one alert delivery attempt's outcome and, when delivered, its latency from enqueue (seconds). */
export function recordAlertDelivery(p: { sink: string; outcome: "delivered" | "retry" | "failed" | "disabled" | "refused"; seconds?: number }): void {
  alertDeliveries.inc({ sink: p.sink, outcome: p.outcome });
  if (p.outcome === "delivered" && p.seconds !== undefined) alertDeliveryLatency.observe({ sink: p.sink }, p.seconds);
}
