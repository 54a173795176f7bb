import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/lib/config.js";
import { formatEnvFile, loadEnvFile, parseEnvFile } from "../../src/lib/load-env-file.js";

describe("env files (--env-file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "backstop-envfile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string, mode = 0o600) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    chmodSync(f, mode);
    return f;
  };

  it("reads NAME=value lines, comments, export, quotes and CRLF; values verbatim", () => {
    const text = [
      "# comment", "", "  # indented comment", "A=plain", "export B=http://x:k3y@127.0.0.1:1/", "C=", "D = spaced value  ",
      "E='single # \"kept\"'", 'F="dq \\"q\\" \\\\ \\n"', "G=a#b", "H=caf\u00e9\r",
    ].join("\n");
    expect(parseEnvFile(text, "f")).toEqual({
      A: "plain", B: "http://x:k3y@127.0.0.1:1/", C: "", D: "spaced value", E: 'single # "kept"', F: 'dq "q" \\ \n', G: "a#b", H: "café",
    });
  });

  it("refuses malformed lines and a name set twice, naming the line and never the value", () => {
    for (const [text, line, problem] of [
      ["A=1\nnot a line\n", 2, /expected NAME=value/], ["A=1\nA=2\n", 2, /A is already set on line 1/],
      ['A="open\n', 1, /quote/], ["A='x'y'\n", 1, /quote/], ['A=ab"c\n', 1, /quote/], ["1A=x\n", 1, /expected NAME=value/],
      ['A="bad \\t escape"\n', 1, /quote/],
    ] as const) {
      try {
        parseEnvFile(text, "/x/demo.env");
        expect.unreachable(text);
      } catch (e) {
        expect(e).toMatchObject({ code: "CONFIG__ENV_FILE_MALFORMED" });
        expect((e as Error).message).toMatch(new RegExp(`^/x/demo.env:${line}: `));
        expect((e as Error).message).toMatch(problem);
        expect((e as Error).message).not.toMatch(/open|ab"c|bad/);
      }
    }
  });

  it("formatEnvFile round-trips any value through parseEnvFile", () => {
    fc.assert(fc.property(fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/), fc.string({ unit: "grapheme", maxLength: 40 })), (values) => {
      expect(parseEnvFile(formatEnvFile({ header: ["h1", "", "h2"], values }), "f")).toEqual(values);
    }), { numRuns: 300 });
  });

  it("refuses a file other users can read or its group can write; reads 0600, 0400 and 0640", () => {
    for (const mode of [0o644, 0o604, 0o620, 0o660, 0o666]) {
      expect(() => loadEnvFile(write("m.env", "A=1\n", mode))).toThrow(expect.objectContaining({ code: "CONFIG__ENV_FILE_PERMISSIONS" }));
    }
    for (const mode of [0o600, 0o400, 0o640]) expect(loadEnvFile(write("m.env", "A=1\n", mode))).toEqual({ A: "1" });
    expect(() => loadEnvFile(join(dir, "missing.env"))).toThrow(expect.objectContaining({ code: "CONFIG__ENV_FILE_UNREADABLE", shortMessage: expect.stringContaining("file not found") }));
    expect(() => loadEnvFile(dir)).toThrow(expect.objectContaining({ code: "CONFIG__ENV_FILE_UNREADABLE" }));
  });

  it("loadConfig resolves env references from the file laid over env (the file wins), and leaves process.env alone", async () => {
    const config = write("c.json", JSON.stringify({
      chains: { btc: { chain: "bitcoin-regtest", rpc: [{ env: "BACKSTOP_T_RPC" }] } }, assets: {}, wallets: [],
    }), 0o644);
    const envFile = write("t.env", "BACKSTOP_T_RPC=http://x:secret@127.0.0.1:18443/\nDATABASE_URL=\n");
    const before = { ...process.env };
    const c = await loadConfig({ path: config, envFile, env: { BACKSTOP_T_RPC: "http://other/", DATABASE_URL: "postgres://u@127.0.0.1:1/x" } });
    expect(c.chains.btc!.rpc).toEqual(["http://x:secret@127.0.0.1:18443/"]);
    expect(c.store.databaseUrl).toBeUndefined(); // the file's empty DATABASE_URL overrides the environment's
    expect(process.env).toEqual(before);
    expect(process.env.BACKSTOP_T_RPC).toBeUndefined();
    await expect(loadConfig({ path: config, env: {} })).rejects.toMatchObject({
      code: "CONFIG__INVALID", metaMessages: ["  chains.btc.rpc[0]: environment variable BACKSTOP_T_RPC is not set"],
    });
  });
});
