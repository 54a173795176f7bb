import type { IncomingMessage } from "node:http";
import { MethodNotAllowedError, NotFoundError } from "./http-errors.js";

/** What a route handler gets: the request, its parsed URL and the client address. */
export type RouteRequest = { req: IncomingMessage; url: URL; method: string; clientAddress: string };
/** What a route handler answers. */
export type RouteResponse = { status: number; headers?: Record<string, string>; body: string };
export type RouteHandler = (r: RouteRequest) => Promise<RouteResponse>;

/** A tiny exact-path router: the API, metrics, health and (later) the public feed are plain routes on one server. */
export type Router = {
  /** Registers `handler` for `path` (exact match) and the given methods. */
  add(methods: readonly string[], path: string, handler: RouteHandler): Router;
  /** The handler for a request. @throws NotFoundError, MethodNotAllowedError */
  match(method: string, path: string): RouteHandler;
};

/** Creates an empty router. */
export function createRouter(): Router {
  const routes = new Map<string, Map<string, RouteHandler>>();
  const router: Router = {
    add(methods, path, handler) {
      let byMethod = routes.get(path);
      if (!byMethod) routes.set(path, (byMethod = new Map()));
      for (const m of methods) {
        if (byMethod.has(m)) throw new Error(`route ${m} ${path} registered twice`);
        byMethod.set(m, handler);
      }
      return router;
    },
    match(method, path) {
      const byMethod = routes.get(path);
      if (!byMethod) throw new NotFoundError();
      const h = byMethod.get(method) ?? (method === "HEAD" ? byMethod.get("GET") : undefined);
      if (!h) throw new MethodNotAllowedError({ allow: [...byMethod.keys()].join(", "), detail: `${method} ${path}` });
      return h;
    },
  };
  return router;
}
