/**
 * The page's Content-Security-Policy: its own scripts, styles and fetches only; no inline script or
 * style, no framing, no form posts, no base-URI tricks, no plugins. Nothing outside the origin can load.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of the page and its files (on top of the server's nosniff, referrer policy). Revalidated by ETag. */
export const PAGE_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "cache-control": "no-cache",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
} as const;

/**
 * Headers of the JSON feed: public aggregates any verifier may fetch (CORS `*`, never with
 * credentials: no cookie is ever set or read); documents cannot run as a page (CSP `default-src 'none'`).
 */
export const FEED_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "access-control-allow-origin": "*",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
} as const;

/** A signed checkpoint at its own URL never changes. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** latest.json, the history pages and the JWKS: caches may keep them this long (the feed's bounded staleness). */
export const SHORT_CACHE = "public, max-age=10";
