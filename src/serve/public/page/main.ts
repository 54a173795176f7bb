// The transparency page's script (served as a module; the CSP forbids inline script). It fetches the
// feed from its own origin only, renders every figure from the exact strings, and verifies in the
// reader's browser: checkpoints (verify-checkpoint-chain.ts) and inclusion proofs (the CLI's own
// import-free verifier, src/liabilities/verify-proof.ts).
import type { SignedCheckpoint } from "../../../reconcile/checkpoint-document.js";
import { verifyProof } from "../../../liabilities/verify-proof.js";
import type { CheckpointSummaryJson } from "../build-checkpoint-summary.js";
import type { PublicStatusJson } from "../build-public-status.js";
import { computeCoverageChart } from "./compute-coverage-chart.js";
import { computeHeadline } from "./compute-headline.js";
import { formatAge, formatBps, formatSigned, formatTime, formatUnitsText } from "./format-display.js";
import { CHECKS, verifyCheckpointChain, type PublishedKey } from "./verify-checkpoint-chain.js";

const HISTORY_LIMIT = 100;
const SERIES_COLOURS = ["#2f6fba", "#16a085", "#c0392b", "#8e44ad", "#d35400", "#2c3e50"];

type State = {
  latest: SignedCheckpoint | null;
  history: CheckpointSummaryJson[];
  jwks: { keys: PublishedKey[] } | null;
  status: PublicStatusJson | null;
};
const state: State = { latest: null, history: [], jwks: null, status: null };

function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e;
}

/** An element with text content only (never HTML from the feed). */
function el(tag: string, p: { text?: string; cls?: string; attrs?: Record<string, string> } = {}, ...children: Node[]): HTMLElement {
  const e = document.createElement(tag);
  if (p.text !== undefined) e.textContent = p.text;
  if (p.cls) e.className = p.cls;
  for (const [k, v] of Object.entries(p.attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function row(cells: Array<string | { text: string; cls?: string }>): HTMLElement {
  return el("tr", {}, ...cells.map((c) => (typeof c === "string" ? el("td", { text: c }) : el("td", { text: c.text, cls: c.cls }))));
}

function fill(tableId: string, rows: HTMLElement[]): void {
  $(tableId).querySelector("tbody")!.replaceChildren(...rows);
}

async function fetchJson<T>(url: string): Promise<T | null> {
  const res = await fetch(url, { credentials: "omit" });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { credentials: "omit" });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

const units = (v: string | null, decimals: number) => (v === null ? "–" : formatUnitsText(v, decimals));

function renderHeadline(): void {
  const s = state.status;
  const h = computeHeadline({
    latest: state.latest?.document ?? null,
    nowS: Math.floor(Date.now() / 1000),
    staleAfterSeconds: s?.feed.staleAfterSeconds ?? 0,
    live: s?.live.assets,
    serverSaysStale: s ? !s.feed.current : true,
  });
  const headline = $("headline");
  headline.textContent = h.label;
  headline.dataset.state = h.state;
  headline.className = "headline";
  $("headline-reasons").replaceChildren(...h.reasons.map((r) => el("li", { text: r })));
  const d = state.latest?.document;
  $("latest-meta").textContent = d ? `Checkpoint ${d.seq} · snapshot ${d.snapshot.id} as of ${d.snapshot.asOf} · digest ${state.latest!.digest}` : "";
}

function renderLatest(): void {
  const d = state.latest?.document;
  if (!d) return;
  fill("assets", d.assets.map((a) => row([
    a.asset,
    { text: units(a.reserves, a.decimals), cls: "num" },
    { text: units(a.liabilities, a.decimals), cls: "num" },
    { text: a.surplus === null ? "–" : formatSigned(a.surplus, a.decimals), cls: "num" },
    { text: formatBps(a.coverageBps), cls: "num" },
    { text: a.status.replace("_", " "), cls: `status-${a.status}` },
    // Version 2: the lowest reserves within the window around the anchors ("–": version 1, or not anchored).
    { text: a.window ? units(a.window.minReserves, a.decimals) : "–", cls: "num" },
  ])));
  // Version 2 flags: they do not change coverage, but say reserves rose into the anchors and left after them.
  const decimalsOf = new Map(d.assets.map((a) => [a.asset, a.decimals]));
  $("flags").replaceChildren(...(d.flags ?? []).map((f) => el("li", {
    text: `Window dressing flagged on ${f.asset}: reserves rose ${units(f.riseBefore, decimalsOf.get(f.asset)!)} before the anchors and dropped ${units(f.dropAfter, decimalsOf.get(f.asset)!)} after them (threshold ${formatBps(String(f.thresholdBps))} of ${units(f.reserves, decimalsOf.get(f.asset)!)}); ${f.inflows.length} inflow(s), ${f.outflows.length} outflow(s) named in the document.`,
  })));
  fill("anchors", d.anchors.map((a) => row([`${a.chain} (${a.caip2})`, { text: String(a.height), cls: "num" }, { text: a.hash, cls: "hash" }, formatTime(a.time), `${a.finality}${a.anchored ? "" : " · NOT ANCHORED"}`])));
  $("assurance").textContent = `Assurance: ${d.assurance}.`;
  const scope: Array<[string, string]> = [
    ["Chains", d.scope.chains.join(", ")],
    ["Assets", d.scope.assets.join(", ")],
    ["Wallets counted", String(d.scope.wallets)],
    ["Address set", `${d.scope.addressSet.entries} entries, ${d.scope.addressSet.digest}`],
    ["Liabilities snapshot", `${d.snapshot.id}, file ${d.snapshot.fileDigest}, root ${d.snapshot.root}`],
  ];
  if (d.unbacked.liabilityAssets.length) scope.push(["Owed without backing", d.unbacked.liabilityAssets.join(", ")]);
  if (d.unbacked.chainAssets.length) scope.push(["Chain assets backing nothing", d.unbacked.chainAssets.join(", ")]);
  if (d.excluded.length) scope.push(["Wallets not counted", String(d.excluded.length)]);
  if (d.discrepancies.length) scope.push(["Discrepancies", String(d.discrepancies.length)]);
  $("scope").replaceChildren(...scope.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

function renderHistory(): void {
  fill("history", [...state.history].reverse().map((h) => row([
    { text: String(h.seq), cls: "num" }, h.time,
    { text: `${h.status}${h.supersededBy !== null ? ` (superseded by ${h.supersededBy})` : ""}`, cls: `status-${h.status}` },
    h.assets.map((a) => `${a.asset} ${formatBps(a.coverageBps)}`).join(" · "),
    { text: h.digest, cls: "hash" },
  ])));
  const chart = computeCoverageChart(state.history);
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const attrs = (e: Element, a: Record<string, string | number>) => { for (const [k, v] of Object.entries(a)) e.setAttribute(k, String(v)); return e; };
  attrs(svg, { viewBox: `0 0 ${chart.width} ${chart.height}`, role: "img", "aria-label": `Coverage per asset over ${state.history.length} checkpoints; 100% is the dashed line` });
  const add = (tag: string, a: Record<string, string | number>, text?: string) => { const e = attrs(document.createElementNS(NS, tag), a); if (text !== undefined) e.textContent = text; svg.append(e); return e; };
  for (const t of chart.yTicks) {
    add("line", { class: "grid", x1: chart.plot.left, x2: chart.plot.right, y1: t.y, y2: t.y });
    add("text", { x: chart.plot.left - 6, y: t.y + 4, "text-anchor": "end" }, t.label);
  }
  for (const t of chart.xTicks) add("text", { x: t.x, y: chart.plot.bottom + 16, "text-anchor": "middle" }, t.label);
  add("line", { class: "axis", x1: chart.plot.left, x2: chart.plot.left, y1: chart.plot.top, y2: chart.plot.bottom });
  add("line", { class: "axis", x1: chart.plot.left, x2: chart.plot.right, y1: chart.plot.bottom, y2: chart.plot.bottom });
  add("line", { class: "par", x1: chart.plot.left, x2: chart.plot.right, y1: chart.parY, y2: chart.parY });
  chart.series.forEach((s, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    // A gap (not anchored: no figure) splits the line.
    const runs: string[][] = [[]];
    for (const pt of s.points) {
      if (Number.isNaN(pt.y)) runs.push([]);
      else runs[runs.length - 1]!.push(`${pt.x.toFixed(1)},${pt.y.toFixed(1)}`);
    }
    for (const r of runs) if (r.length) add("polyline", { class: "series", stroke: colour, points: r.join(" "), "data-asset": s.asset });
    for (const pt of s.points) {
      if (Number.isNaN(pt.y)) continue;
      const c = add("circle", { cx: pt.x.toFixed(1), cy: pt.y.toFixed(1), r: 3, fill: colour });
      c.append(attrs(document.createElementNS(NS, "title"), {}));
      c.firstChild!.textContent = `${s.asset} at checkpoint ${pt.seq}: ${formatBps(pt.bps)}`;
    }
    add("text", { x: chart.plot.right - 4, y: chart.plot.top + 14 + i * 14, "text-anchor": "end", fill: colour }, s.asset);
  });
  $("chart").replaceChildren(svg);
}

function renderLive(): void {
  const s = state.status;
  if (!s) return;
  if (!s.live.assets.length) fill("live", [row(["no live coverage computed yet", "", "", "", ""])]);
  else fill("live", s.live.assets.map((a) => row([a.asset, { text: units(a.reserves, a.decimals), cls: "num" }, { text: units(a.liabilities, a.decimals), cls: "num" }, { text: formatBps(a.coverageBps), cls: "num" }, { text: a.status, cls: `status-${a.status}` }])));
  fill("chains", s.chains.map((c) => row([`${c.chain} (${c.caip2})`, { text: c.finalizedHeight === null ? "–" : String(c.finalizedHeight), cls: "num" }, c.ageSeconds === null ? "–" : formatAge(c.ageSeconds)])));
}

function report(ok: boolean, lines: string[]): void {
  const out = $("verify-result");
  out.replaceChildren(el("span", { text: ok ? "verified" : "failed", cls: ok ? "verified" : "failed" }), document.createTextNode(`: ${lines.join("\n")}`));
}

async function verifyCheckpoints(): Promise<void> {
  $("verify-result").textContent = "checking…";
  try {
    if (!state.jwks) return report(false, [`${CHECKS.jwks}: the JWKS could not be read`]);
    if (!state.history.length) return report(false, ["no checkpoint to verify"]);
    const files = await Promise.all(state.history.map(async (h) => ({ seq: h.seq, text: await fetchText(h.url) })));
    const latestText = await fetchText("/public/v1/checkpoints/latest.json");
    const r = await verifyCheckpointChain({ files, jwks: state.jwks, subtle: crypto.subtle });
    if (!r.ok) return report(false, [`checkpoint ${r.seq ?? "?"}: ${r.check}: ${r.problem}`]);
    const top = files[files.length - 1]!;
    if (latestText !== top.text) return report(false, [`latest: latest.json is not checkpoint ${top.seq}'s document`]);
    const first = r.checked[0]!;
    report(true, [
      `${r.checked.length} checkpoint(s), ${first.seq} to ${top.seq}: canonical bytes, digests, Ed25519 signatures by ${[...new Set(r.checked.map((c) => c.kid))].join(", ")} (published keys), coverage figures, previous-digest chain${first.seq > 1 ? ` (from checkpoint ${first.seq}; earlier ones are not shown)` : " from checkpoint 1"}`,
    ]);
  } catch (e) {
    report(false, [`fetch: ${e instanceof Error ? e.message : String(e)}`]);
  }
}

async function verifyMyProof(): Promise<void> {
  $("verify-result").textContent = "checking…";
  try {
    const text = ($("proof-text") as HTMLTextAreaElement).value.trim();
    if (!text) return report(false, ["proof JSON: paste your proof or choose its file"]);
    let proof: { snapshotId?: unknown; assets?: Array<{ id: string; decimals: number }> };
    try {
      proof = JSON.parse(text) as typeof proof;
    } catch {
      return report(false, ["proof JSON: not JSON"]);
    }
    const sid = typeof proof?.snapshotId === "string" ? proof.snapshotId : "";
    const named = [...state.history].reverse().find((h) => h.snapshotId === sid && h.supersededBy === null) ?? [...state.history].reverse().find((h) => h.snapshotId === sid);
    if (!named) return report(false, [`checkpoint for the snapshot: no checkpoint shown names snapshot ${JSON.stringify(sid.slice(0, 140))}`]);
    // The root is only as good as the checkpoint that publishes it: verify that checkpoint first.
    const docText = await fetchText(named.url);
    if (!state.jwks) return report(false, [`${CHECKS.jwks}: the JWKS could not be read`]);
    const cv = await verifyCheckpointChain({ files: [{ text: docText }], jwks: state.jwks, subtle: crypto.subtle });
    if (!cv.ok) return report(false, [`checkpoint ${named.seq}: ${cv.check}: ${cv.problem}`]);
    const doc = (JSON.parse(docText) as SignedCheckpoint).document;
    const v = verifyProof(proof, { expectedRoot: doc.snapshot.root });
    if (!v.ok) return report(false, [`inclusion proof: ${v.reason}`]);
    for (let i = 0; i < v.assets.length; i++) {
      const a = doc.assets.find((x) => x.asset === v.assets[i]!.id);
      if (a && a.liabilities !== v.totals[i]!.toString()) return report(false, [`totals: the proof's ${a.asset} total differs from checkpoint ${doc.seq}'s liabilities`]);
    }
    report(true, [
      `your balance is included in snapshot ${doc.snapshot.id} (as of ${doc.snapshot.asOf}), root ${v.root}, published in checkpoint ${doc.seq} (signature checked)`,
      ...v.assets.map((a, i) => `  ${a.id}: ${formatUnitsText(v.balances[i]!.toString(), a.decimals)} (of ${formatUnitsText(v.totals[i]!.toString(), a.decimals)} owed in total)`),
      ...(v.labelsAuthenticated ? [] : ["  format 1 proof: the snapshot id and time are unverified labels"]),
    ]);
  } catch (e) {
    report(false, [`fetch: ${e instanceof Error ? e.message : String(e)}`]);
  }
}

async function load(): Promise<void> {
  try {
    const [latestText, history, jwks, status] = await Promise.all([
      fetch("/public/v1/checkpoints/latest.json", { credentials: "omit" }).then((r) => (r.status === 404 ? null : r.ok ? r.text() : Promise.reject(new Error(`latest.json: HTTP ${r.status}`)))),
      fetchJson<{ checkpoints: CheckpointSummaryJson[] }>(`/public/v1/checkpoints?limit=${HISTORY_LIMIT}`),
      fetchJson<{ keys: PublishedKey[] }>("/.well-known/backstop-keys.json"),
      fetchJson<PublicStatusJson>("/public/v1/status.json").catch(() => null),
    ]);
    state.latest = latestText === null ? null : (JSON.parse(latestText) as SignedCheckpoint);
    state.history = [...(history?.checkpoints ?? [])].sort((a, b) => a.seq - b.seq);
    state.jwks = jwks;
    state.status = status;
    renderHeadline();
    renderLatest();
    renderHistory();
    renderLive();
    document.body.dataset.ready = "true";
  } catch (e) {
    const h = $("headline");
    h.textContent = "UNAVAILABLE";
    h.dataset.state = "error";
    $("headline-reasons").replaceChildren(el("li", { text: e instanceof Error ? e.message : String(e) }));
    document.body.dataset.ready = "error";
  }
}

$("verify-checkpoints").addEventListener("click", () => void verifyCheckpoints());
$("verify-proof").addEventListener("click", () => void verifyMyProof());
$("proof-file").addEventListener("change", async (ev) => {
  const f = (ev.target as HTMLInputElement).files?.[0];
  if (f) ($("proof-text") as HTMLTextAreaElement).value = await f.text();
});
void load();
