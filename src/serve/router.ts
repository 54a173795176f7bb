import type { IncomingMessage } from "node:http";
import { MethodNotAllowedError, NotFoundError } from "./http-errors.js";

/** What a route handler gets: the request, its parsed URL and the client address. */
export type RouteRequest = { req: IncomingMessage; url: URL; method: string; clientAddress: string };
/** What a route handler answers. */
export type RouteResponse = { status: number; headers?: Record<string, string>; body: string | Buffer };
export type RouteHandler = (r: RouteRequest) => Promise<RouteResponse>;

/** A tiny exact-path router: the API, metrics, health and (later) the public feed are plain routes on one server. */
export type Router = {
  /** Registers `handler` for `path` (exact match) and the given methods. */
  add(methods: readonly string[], path: string, handler: RouteHandler): Router;
  /** Registers `handler` for every path under `prefix` (ending in "/") that has no exact route; the handler parses the rest. */
  addPrefix(methods: readonly string[], prefix: string, handler: RouteHandler): Router;
  /** The handler for a request. @throws NotFoundError, MethodNotAllowedError */
  match(method: string, path: string): RouteHandler;
};

/** Creates an empty router. */
export function createRouter(): Router {
  const routes = new Map<string, Map<string, RouteHandler>>();
  const prefixes = new Map<string, Map<string, RouteHandler>>();
  const register = (table: Map<string, Map<string, RouteHandler>>, methods: readonly string[], path: string, handler: RouteHandler) => {
    let byMethod = table.get(path);
    if (!byMethod) table.set(path, (byMethod = new Map()));
    for (const m of methods) {
      if (byMethod.has(m)) throw new Error(`route ${m} ${path} registered twice`);
      byMethod.set(m, handler);
    }
  };
  const router: Router = {
    add(methods, path, handler) {
      register(routes, methods, path, handler);
      return router;
    },
    addPrefix(methods, prefix, handler) {
      if (!prefix.endsWith("/")) throw new Error(`route prefix ${prefix} must end in "/"`);
      register(prefixes, methods, prefix, handler);
      return router;
    },
    match(method, path) {
      let byMethod = routes.get(path);
      if (!byMethod) {
        // The longest registered prefix wins.
        let best = "";
        for (const prefix of prefixes.keys()) if (path.startsWith(prefix) && prefix.length > best.length) best = prefix;
        if (best) byMethod = prefixes.get(best);
      }
      if (!byMethod) throw new NotFoundError();
      const h = byMethod.get(method) ?? (method === "HEAD" ? byMethod.get("GET") : undefined);
      if (!h) throw new MethodNotAllowedError({ allow: [...byMethod.keys()].join(", "), detail: `${method} ${path}` });
      return h;
    },
  };
  return router;
}
