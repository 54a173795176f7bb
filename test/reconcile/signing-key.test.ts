import { describe, expect, it } from "vitest";
import { buildPublicJwk, computeJwkThumbprint, createSigningKey, parseSigningKey, signBytes, verifyBytes } from "../../src/reconcile/signing-key.js";

// RFC 8037 appendix A: the Ed25519 key (A.1), its RFC 7638 thumbprint (A.3) and the JWS signature (A.4).
const D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

describe("signing keys", () => {
  it("RFC 8037 A.3: the thumbprint of the example key", () => {
    expect(computeJwkThumbprint(X)).toBe("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  });
  it("RFC 8037 A.4: the seed gives the public key, and the signature of the example input", () => {
    const key = parseSigningKey(`ed25519:${D}`);
    expect(key.jwk).toEqual(buildPublicJwk(X));
    const input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    const sig = signBytes(key, input);
    expect(sig).toBe("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
    expect(verifyBytes(X, input, sig)).toBe(true);
    expect(verifyBytes(X, `${input}.`, sig)).toBe(false);
  });
  it("a generated key round-trips; a malformed one is refused without echoing it", () => {
    const k = createSigningKey();
    expect(parseSigningKey(k.text).jwk).toEqual(k.jwk);
    const bad = "ed25519:not-a-key-at-all";
    try {
      parseSigningKey(bad, { env: "BACKSTOP_CHECKPOINT_KEY" });
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe("CHECKPOINT__BAD_SIGNING_KEY");
      expect(String((err as Error).message)).not.toContain("not-a-key");
      expect(String((err as Error).message)).toContain("BACKSTOP_CHECKPOINT_KEY");
    }
  });
});
