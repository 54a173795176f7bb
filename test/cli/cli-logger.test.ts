import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createCliLogger } from "../../src/cli/context.js";
import { createLogger } from "../../src/lib/logger.js";

describe("logs for a person at a terminal", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-logs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("pretty: one line per entry, written before the call returns (in order with stdout), secrets redacted", () => {
    const file = join(dir, "pretty.log");
    const fd = openSync(file, "w");
    try {
      const log = createLogger({ format: "pretty", fd, level: "info" });
      log.warn({ msg: "reorg", chain: "btc", from_height: 446, detail: "line one\nline two", rpc: "http://x:0123456789abcdef@127.0.0.1:1/" });
      const text = readFileSync(file, "utf8"); // no flush, no wait: the line is already there
      expect(text.split("\n").filter(Boolean)).toHaveLength(1);
      expect(text).toMatch(/WARN.*reorg.*"chain":"btc".*"from_height":446.*line one\\nline two/);
      expect(text).not.toContain("0123456789abcdef");
      log.info({ msg: "second" });
      expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(2);
    } finally {
      closeSync(fd);
    }
  });

  it("the demo starts at warn when pretty (-v: info, -vv: debug); other commands and JSON logs at info", () => {
    const level = (o: Parameters<typeof createCliLogger>[0], demo: boolean) => createCliLogger(o, { quietWhenPretty: demo }).level;
    expect(level({ config: "x", logFormat: "pretty" }, true)).toBe("warn");
    expect(level({ config: "x", logFormat: "pretty", verbose: 1 }, true)).toBe("info");
    expect(level({ config: "x", logFormat: "pretty", verbose: 2 }, true)).toBe("debug");
    expect(level({ config: "x", logFormat: "json" }, true)).toBe("info");
    expect(level({ config: "x", logFormat: "pretty" }, false)).toBe("info");
    expect(level({ config: "x", logFormat: "json", verbose: 1 }, false)).toBe("debug");
    expect(level({ config: "x", logFormat: "json", verbose: 5 }, false)).toBe("trace");
  });
});
