import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

/** A static file of the page, ready to send: bytes, type and a strong ETag of its content. */
export type PageAsset = { body: string; contentType: string; etag: string };

/** URL prefix of the page's script modules: `/public/assets/<repository path>.js`. */
export const ASSET_PREFIX = "/public/assets/";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PAGE_DIR = join(REPO, "src/serve/public/page");
/** The page's entry module; every module it imports (relative specifiers only) is served with it. */
const ENTRY = join(PAGE_DIR, "main.ts");

function asset(body: string, contentType: string): PageAsset {
  return { body, contentType, etag: `"sha256:${createHash("sha256").update(body).digest("hex")}"` };
}

/**
 * Loads the transparency page: `index.html`, `page.css`, and the script modules reachable from
 * `page/main.ts` — the page's own modules and the ones it shares with the CLI (the import-free proof
 * verifier src/liabilities/verify-proof.ts, the RFC 8785 canonicaliser src/reconcile/canonicalize-json.ts
 * and its error classes) — each TypeScript file transpiled alone (types stripped, no bundling), so
 * the browser runs the very code the CLI runs. A module that imports anything but a relative path
 * (node:, an npm package) fails here, at start-up, never in a reader's browser.
 * Returns the files by URL path.
 * @throws Error naming the module and import at fault
 */
export function loadPageAssets(): Map<string, PageAsset> {
  const out = new Map<string, PageAsset>();
  out.set("/", asset(readFileSync(join(PAGE_DIR, "index.html"), "utf8"), "text/html; charset=utf-8"));
  out.set("/public/page.css", asset(readFileSync(join(PAGE_DIR, "page.css"), "utf8"), "text/css; charset=utf-8"));
  const pending = [ENTRY];
  const seen = new Set<string>();
  while (pending.length) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = relative(REPO, file);
    if (rel.startsWith("..") || !rel.startsWith("src/")) throw new Error(`page module ${rel} is outside src/`);
    const { code } = transformSync(readFileSync(file, "utf8"), { loader: "ts", format: "esm", target: "es2022", sourcefile: rel });
    for (const m of code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(/g)) {
      const spec = m[1] ?? m[2];
      if (spec === undefined) throw new Error(`page module ${rel}: dynamic import() is not served`);
      if (!spec.startsWith("./") && !spec.startsWith("../")) throw new Error(`page module ${rel} imports "${spec}": the page serves relative modules only (no node:, no npm)`);
      if (!spec.endsWith(".js")) throw new Error(`page module ${rel} imports "${spec}": expected a .js specifier`);
      pending.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    }
    out.set(`${ASSET_PREFIX}${rel.replace(/\.ts$/, ".js")}`, asset(code, "text/javascript; charset=utf-8"));
  }
  return out;
}
