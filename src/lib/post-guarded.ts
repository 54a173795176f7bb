import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { classifyAddress, isLocalhostName } from "./classify-address.js";
import { BackstopError } from "./errors.js";

/** A sink address that is not allowed: refused before any byte is sent (SSRF guard). */
export class SinkAddressRefusedError extends BackstopError {
  override name = "SinkAddressRefusedError";
  constructor(p: { host: string; reason: string }) {
    super("ALERTS__SINK_ADDRESS_REFUSED", `Alert sink host ${p.host} refused: ${p.reason}.`);
  }
}

/** A delivery attempt failed before an HTTP status (connect, TLS, timeout, reset). Retryable. */
export class SinkTransportError extends BackstopError {
  override name = "SinkTransportError";
  constructor(p: { host: string; reason: string; cause?: unknown }) {
    super("ALERTS__SINK_TRANSPORT", `Alert sink ${p.host}: ${p.reason}.`, { cause: p.cause, retryable: true });
  }
}

/** The DNS resolver the guard asks (all addresses of a name); injectable so a test can make a name resolve to loopback. */
export type ResolveHost = (host: string) => Promise<{ address: string; family: number }[]>;

const defaultResolve: ResolveHost = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addrs) => (err ? reject(err) : resolve(addrs))));

export type GuardedPostOptions = {
  /** Development: http and loopback addresses allowed (never private or link-local ones). */
  allowInsecureLoopback: boolean;
  /** Whole attempt, connect to last byte read. */
  timeoutMs: number;
  /** Response bytes kept; reading stops there (the connection is closed). */
  maxResponseBytes: number;
  resolve?: ResolveHost;
};

/** What a guarded POST returns: the status, the headers and at most maxResponseBytes of the body. */
export type GuardedResponse = { status: number; headers: http.IncomingHttpHeaders; body: string; truncated: boolean };

function checkAddress(address: string, host: string, o: GuardedPostOptions): void {
  const cls = classifyAddress(address);
  if (cls === null) throw new SinkAddressRefusedError({ host, reason: `resolved to ${address}, not an IP address` });
  if (cls.kind === "blocked") throw new SinkAddressRefusedError({ host, reason: `address ${address} is not public (${cls.range})` });
  if (cls.kind === "loopback" && !o.allowInsecureLoopback) throw new SinkAddressRefusedError({ host, reason: `address ${address} is loopback` });
}

/**
 * POSTs `body` to a sink URL through the one transport alerts use, guarded against SSRF at every layer:
 * 1. the URL (after WHATWG normalisation, which turns `127.1`, `2130706433`, `0x7f000001` into `127.0.0.1`):
 *    https only (http only for loopback in development mode), no credentials; an IP literal must be public;
 * 2. the name's DNS answers: EVERY address must be public, and the connection goes to the vetted address
 *    (our `lookup` hands it to the socket, so a second DNS answer cannot rebind it);
 * 3. the connected socket's remote address is checked again before the request is written.
 * Redirects are not followed (a 3xx is returned as such: the caller treats it as a failure); the response is
 * read up to maxResponseBytes; the whole attempt is bounded by timeoutMs.
 * @throws SinkAddressRefusedError (not retryable), SinkTransportError (retryable)
 */
export async function postGuarded(url: string, p: { headers: Record<string, string>; body: string }, o: GuardedPostOptions): Promise<GuardedResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SinkAddressRefusedError({ host: "(invalid URL)", reason: "not a URL" });
  }
  const host = u.hostname;
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new SinkAddressRefusedError({ host, reason: `scheme ${u.protocol}` });
  if (u.username || u.password) throw new SinkAddressRefusedError({ host, reason: "credentials in the URL" });
  const literal = classifyAddress(bare);
  let target: { address: string; family: number };
  if (literal !== null) {
    checkAddress(bare, host, o);
    target = { address: bare, family: bare.includes(":") ? 6 : 4 };
  } else {
    if (isLocalhostName(bare) && !o.allowInsecureLoopback) throw new SinkAddressRefusedError({ host, reason: "localhost" });
    let addrs: { address: string; family: number }[];
    try {
      addrs = await (o.resolve ?? defaultResolve)(bare);
    } catch (cause) {
      throw new SinkTransportError({ host, reason: "DNS lookup failed", cause });
    }
    if (!addrs.length) throw new SinkTransportError({ host, reason: "DNS lookup returned no address" });
    for (const a of addrs) checkAddress(a.address, host, o);
    target = addrs[0]!;
  }
  const loopback = classifyAddress(target.address)?.kind === "loopback";
  if (u.protocol === "http:" && !(loopback && o.allowInsecureLoopback)) throw new SinkAddressRefusedError({ host, reason: "http is allowed only for loopback in development mode (use https)" });
  // The socket connects to the vetted address only; net.connect calls this instead of DNS.
  const lookup: LookupFunction = (_h, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = u.protocol === "https:" ? https : http;
  return new Promise<GuardedResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = mod.request(
      {
        protocol: u.protocol,
        hostname: bare,
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: "POST",
        lookup,
        headers: { ...p.headers, "content-length": String(Buffer.byteLength(p.body)) },
        agent: false,
        // SNI and certificate checks use the name, not the address.
        servername: literal === null ? bare : undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on("data", (c: Buffer) => {
          if (truncated) return;
          const room = o.maxResponseBytes - size;
          if (c.length > room) {
            chunks.push(c.subarray(0, room));
            size += room;
            truncated = true;
            // Enough read: the rest of a huge (or endless) answer is not our problem.
            finish();
            res.destroy();
            return;
          }
          chunks.push(c);
          size += c.length;
        });
        const finish = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), truncated });
        };
        res.on("end", finish);
        res.on("error", (cause) => fail(new SinkTransportError({ host, reason: "response failed", cause })));
      },
    );
    const timer = setTimeout(() => fail(new SinkTransportError({ host, reason: `no complete answer within ${o.timeoutMs} ms` })), o.timeoutMs);
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        const remote = socket.remoteAddress;
        try {
          if (!remote) throw new SinkAddressRefusedError({ host, reason: "connected socket has no remote address" });
          checkAddress(remote, host, o);
        } catch (err) {
          fail(err as Error);
        }
      });
    });
    req.on("error", (cause) => fail(isRefused(cause) ? cause : new SinkTransportError({ host, reason: (cause as NodeJS.ErrnoException).code ?? "request failed", cause })));
    req.end(p.body);
  });
}

const isRefused = (e: unknown): e is SinkAddressRefusedError => e instanceof SinkAddressRefusedError;
