import type { CheckpointKeyConfig } from "../lib/config.js";
import { buildPublicJwk } from "./signing-key.js";
import type { Jwks } from "./verify-checkpoints.js";

/** The published JWKS of checkpoint keys: RFC 8037 public JWKs with `nbf`/`exp` (unix seconds) as their validity windows. Pure. */
export function buildJwks(keys: readonly CheckpointKeyConfig[]): Jwks {
  return {
    keys: keys.map((k) => ({
      ...buildPublicJwk(k.x),
      nbf: Math.floor(k.notBeforeMs / 1000),
      ...(k.notAfterMs === null ? {} : { exp: Math.floor(k.notAfterMs / 1000) }),
    })),
  };
}
