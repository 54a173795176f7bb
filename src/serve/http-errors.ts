import { BackstopError, type ErrorCode } from "../lib/errors.js";

/**
 * An HTTP-level refusal: its status, the generic message the client sees (never the detail, which
 * stays in `shortMessage` for the log) and the metrics reason. Mapped to a response in one place
 * (src/serve/create-serve-server.ts).
 */
export class HttpError extends BackstopError {
  override name = "HttpError";
  constructor(
    code: ErrorCode,
    readonly status: number,
    readonly publicMessage: string,
    readonly reason: string,
    opts: { detail?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, opts.detail ?? publicMessage, { cause: opts.cause });
    this.headers = opts.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

/** Missing, malformed, unknown, revoked or expired API key, or a key in the query string: 401, no detail. */
export class UnauthorizedError extends HttpError {
  override name = "UnauthorizedError";
  constructor(p: { reason: string; detail: string }) {
    super("SERVE__UNAUTHORIZED", 401, "Unauthorized.", p.reason, { detail: p.detail, headers: { "www-authenticate": 'Bearer realm="backstop"' } });
  }
}

/** The key is valid but lacks the scope the operation needs: 403. */
export class ForbiddenError extends HttpError {
  override name = "ForbiddenError";
  constructor(p: { scope: string; key: string }) {
    super("SERVE__FORBIDDEN", 403, "Forbidden.", "scope", { detail: `API key ${p.key} lacks scope ${p.scope}.` });
  }
}

/** The key (or, for failed authentications, the client address) is over its rate limit: 429 with Retry-After. */
export class RateLimitedError extends HttpError {
  override name = "RateLimitedError";
  constructor(p: { retryAfterS: number; who: string }) {
    super("SERVE__RATE_LIMITED", 429, "Too many requests.", "rate_limit", { detail: `Rate limit reached for ${p.who}.`, headers: { "retry-after": String(p.retryAfterS) } });
  }
}

/** The request body is over the size limit: 413. */
export class BodyTooLargeError extends HttpError {
  override name = "BodyTooLargeError";
  constructor(p: { limitBytes: number }) {
    super("SERVE__BODY_TOO_LARGE", 413, "Request body too large.", "body_size", { detail: `Request body over ${p.limitBytes} bytes.` });
  }
}

/** A GraphQL document refused by the armour (depth, aliases, directives, tokens, cost, page size, batch, invalid): 400, generic message. */
export class QueryRejectedError extends HttpError {
  override name = "QueryRejectedError";
  constructor(p: { reason: string; detail: string }) {
    super("SERVE__QUERY_REJECTED", 400, "Query validation error.", p.reason, { detail: p.detail });
  }
}

/** A malformed request (not JSON, no query, a JSON nesting over the limit): 400. */
export class BadRequestError extends HttpError {
  override name = "BadRequestError";
  constructor(p: { reason: string; detail: string }) {
    super("SERVE__BAD_REQUEST", 400, "Bad request.", p.reason, { detail: p.detail });
  }
}

/** A method the route does not serve (e.g. a mutation over GET): 405. */
export class MethodNotAllowedError extends HttpError {
  override name = "MethodNotAllowedError";
  constructor(p: { allow: string; detail: string }) {
    super("SERVE__METHOD_NOT_ALLOWED", 405, "Method not allowed.", "method", { detail: p.detail, headers: { allow: p.allow } });
  }
}

/** A body that is not `application/json` (form posts, text): 415. */
export class UnsupportedMediaTypeError extends HttpError {
  override name = "UnsupportedMediaTypeError";
  constructor(p: { contentType: string }) {
    super("SERVE__UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported media type.", "media_type", { detail: `Content-Type ${JSON.stringify(p.contentType.slice(0, 64))} is not application/json.` });
  }
}

/** No such route: 404. */
export class NotFoundError extends HttpError {
  override name = "NotFoundError";
  constructor() {
    super("SERVE__NOT_FOUND", 404, "Not found.", "not_found");
  }
}

/** The query ran past the per-query time limit: 503. */
export class QueryTimeoutError extends HttpError {
  override name = "QueryTimeoutError";
  constructor(p: { timeoutMs: number }) {
    super("SERVE__QUERY_TIMEOUT", 503, "Query timed out.", "timeout", { detail: `Query ran past ${p.timeoutMs} ms.` });
  }
}

/** The server is not ready (store unreachable): 503 from /readyz. */
export class NotReadyError extends HttpError {
  override name = "NotReadyError";
  constructor(p: { cause: unknown }) {
    super("SERVE__NOT_READY", 503, "Not ready.", "not_ready", { detail: "The store is not reachable.", cause: p.cause });
  }
}

/** A GraphQL argument that is out of range or malformed (a field error in the result, not an HTTP status). */
export class InvalidArgumentError extends BackstopError {
  override name = "InvalidArgumentError";
  constructor(p: { argument: string; problem: string }) {
    super("SERVE__INVALID_ARGUMENT", `Argument ${p.argument}: ${p.problem}.`);
  }
}

/** A chain key that is not configured. */
export class UnknownChainArgumentError extends BackstopError {
  override name = "UnknownChainArgumentError";
  constructor(p: { chain: string }) {
    super("SERVE__UNKNOWN_CHAIN", `No chain ${JSON.stringify(p.chain.slice(0, 64))} in the config.`);
  }
}
