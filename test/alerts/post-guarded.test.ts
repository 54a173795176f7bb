import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyAddress } from "../../src/lib/classify-address.js";
import { postGuarded, type GuardedPostOptions } from "../../src/lib/post-guarded.js";

describe("the SSRF-guarded transport, against a real loopback server", () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      req.on("end", () => res.end("reached"));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  const prod: GuardedPostOptions = { allowInsecureLoopback: false, timeoutMs: 2000, maxResponseBytes: 1024 };
  const dev: GuardedPostOptions = { ...prod, allowInsecureLoopback: true };
  const post = (url: string, o: GuardedPostOptions) => postGuarded(url, { headers: {}, body: "{}" }, o);

  it("refuses every IP-literal form of loopback (each of which reaches this server when not guarded) before connecting", async () => {
    const forms = [`127.0.0.1`, `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `[::ffff:127.0.0.1]`, `[::ffff:7f00:1]`, `[::1]`, `localhost`];
    for (const host of forms) {
      for (const scheme of ["http", "https"]) {
        await expect(post(`${scheme}://${host}:${port}/x`, prod), `${scheme}://${host}`).rejects.toMatchObject({ code: "ALERTS__SINK_ADDRESS_REFUSED" });
      }
    }
    expect(hits).toBe(0);
    // The same forms DO reach the server (development mode allows loopback): the refusals above were the guard.
    for (const host of [`127.1`, `2130706433`, `0x7f000001`, `localhost`]) expect((await post(`http://${host}:${port}/x`, dev)).body).toBe("reached");
    expect(hits).toBe(4);
  });

  it("refuses private, link-local (metadata), unique-local, CGNAT, mapped and unspecified addresses even in development mode", async () => {
    for (const host of ["169.254.169.254", "10.0.0.1", "192.168.0.1", "172.16.5.4", "100.64.0.1", "0.0.0.0", "[fd00::1]", "[fe80::1]", "[::ffff:169.254.169.254]", "[::ffff:10.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]"]) {
      await expect(post(`http://${host}/latest/meta-data`, dev), host).rejects.toMatchObject({ code: "ALERTS__SINK_ADDRESS_REFUSED" });
    }
  });

  it("a public-looking hostname that resolves to 127.0.0.1 (or to a private address among public ones) is refused at connect time", async () => {
    const before = hits;
    const rebind = async () => [{ address: "127.0.0.1", family: 4 }];
    await expect(postGuarded(`https://hooks.example.com:${port}/x`, { headers: {}, body: "{}" }, { ...prod, resolve: rebind })).rejects.toMatchObject({ code: "ALERTS__SINK_ADDRESS_REFUSED", shortMessage: expect.stringContaining("127.0.0.1 is loopback") });
    const mixed = async () => [{ address: "93.184.215.14", family: 4 }, { address: "10.0.0.7", family: 4 }];
    await expect(postGuarded("https://hooks.example.com/x", { headers: {}, body: "{}" }, { ...prod, resolve: mixed })).rejects.toMatchObject({ shortMessage: expect.stringContaining("10.0.0.7 is not public (private)") });
    const mapped = async () => [{ address: "::ffff:127.0.0.1", family: 6 }];
    await expect(postGuarded("https://hooks.example.com/x", { headers: {}, body: "{}" }, { ...prod, resolve: mapped })).rejects.toMatchObject({ code: "ALERTS__SINK_ADDRESS_REFUSED" });
    // The system resolver: localhost-style names are refused outside development mode.
    await expect(post(`https://localhost:${port}/`, prod)).rejects.toMatchObject({ code: "ALERTS__SINK_ADDRESS_REFUSED" });
    expect(hits).toBe(before);
    // In development mode the vetted address is the one connected to (the name is not looked up again).
    expect((await postGuarded(`http://hooks.example.com:${port}/x`, { headers: {}, body: "{}" }, { ...dev, resolve: rebind })).body).toBe("reached");
  });

  it("https only outside development mode, for public addresses too", async () => {
    await expect(post("http://93.184.215.14/x", prod)).rejects.toMatchObject({ shortMessage: expect.stringContaining("use https") });
    await expect(post("http://93.184.215.14/x", dev)).rejects.toMatchObject({ shortMessage: expect.stringContaining("use https") });
  });

  it("classifies addresses by range, unwrapping IPv4-mapped IPv6", () => {
    expect(classifyAddress("8.8.8.8")).toEqual({ kind: "public" });
    expect(classifyAddress("2606:4700::1111")).toEqual({ kind: "public" });
    expect(classifyAddress("::ffff:8.8.8.8")).toEqual({ kind: "public" });
    expect(classifyAddress("::ffff:127.0.0.1")).toEqual({ kind: "loopback" });
    expect(classifyAddress("169.254.169.254")).toEqual({ kind: "blocked", range: "linkLocal" });
    expect(classifyAddress("hooks.example.com")).toBeNull();
  });
});
