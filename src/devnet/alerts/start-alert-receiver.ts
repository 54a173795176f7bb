import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got. */
export type ReceivedRequest = { path: string; headers: IncomingMessage["headers"]; body: string; atMs: number };

/** How to answer a request: a status, headers and body, or `hang` (never answer: the sender's time limit). */
export type ReceiverAnswer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | "hang";

/** A local HTTP receiver speaking what alert sinks expect (for tests and the demo). */
export type AlertReceiver = {
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  received: ReceivedRequest[];
  /** Replaces the answer function (default: the API of the path: webhook 204, Slack "ok", PagerDuty 202). */
  answer(fn: ((r: ReceivedRequest) => ReceiverAnswer) | undefined): void;
  /** Resolves when `n` requests (in total) have arrived, or rejects after timeoutMs. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Calls back on every request. */
  onRequest(cb: (r: ReceivedRequest) => void): void;
  close(): Promise<void>;
};

/**
 * The default answers, as the real services give them: `/slack/...` → 200 `ok` (Slack incoming webhooks);
 * `/v2/enqueue` → 202 `{"status":"success","message":"Event processed","dedup_key":…}` after checking the
 * Events v2 shape (400 `invalid event` otherwise, as PagerDuty does); anything else → 204 (a webhook receiver).
 */
function defaultAnswer(r: ReceivedRequest): ReceiverAnswer {
  if (r.path.startsWith("/slack/")) {
    try {
      const m = JSON.parse(r.body) as { text?: unknown };
      return typeof m.text === "string" && m.text ? { status: 200, body: "ok" } : { status: 400, body: "no_text" };
    } catch {
      return { status: 400, body: "invalid_payload" };
    }
  }
  if (r.path === "/v2/enqueue") {
    try {
      const e = JSON.parse(r.body) as { routing_key?: string; event_action?: string; dedup_key?: string; payload?: { summary?: string; source?: string; severity?: string } };
      const okAction = e.event_action === "trigger" || e.event_action === "acknowledge" || e.event_action === "resolve";
      const okPayload = e.event_action !== "trigger" || (!!e.payload?.summary && e.payload.summary.length <= 1024 && !!e.payload.source && ["critical", "error", "warning", "info"].includes(e.payload.severity ?? ""));
      if (!e.routing_key || e.routing_key.length !== 32 || !okAction || !okPayload || (e.dedup_key ?? "").length > 255) return { status: 400, body: JSON.stringify({ status: "invalid event", message: "Event object is invalid" }) };
      return { status: 202, headers: { "content-type": "application/json" }, body: JSON.stringify({ status: "success", message: "Event processed", dedup_key: e.dedup_key }) };
    } catch {
      return { status: 400, body: JSON.stringify({ status: "invalid event", message: "Event object is invalid" }) };
    }
  }
  return { status: 204 };
}

/** Starts a receiver on 127.0.0.1 (an ephemeral port unless given). */
export async function startAlertReceiver(p: { port?: number } = {}): Promise<AlertReceiver> {
  const received: ReceivedRequest[] = [];
  let answer: ((r: ReceivedRequest) => ReceiverAnswer) | undefined;
  const waiters: { n: number; done: () => void }[] = [];
  const listeners: ((r: ReceivedRequest) => void)[] = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: ReceivedRequest = { path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), atMs: Date.now() };
      received.push(r);
      for (const l of listeners) l(r);
      for (const w of waiters.filter((x) => received.length >= x.n)) w.done();
      const a = (answer ?? defaultAnswer)(r);
      if (a === "hang") {
        hung.add(res);
        return;
      }
      const reply = () => {
        res.writeHead(a.status, a.headers);
        res.end(a.body ?? "");
      };
      if (a.delayMs) setTimeout(reply, a.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(p.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer(fn) {
      answer = fn;
    },
    onRequest(cb) {
      listeners.push(cb);
    },
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, done: () => (clearTimeout(timer), resolve(received.slice())) });
      });
    },
    async close() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
