import { createHash } from "node:crypto";

/** `sha256:<64 lowercase hex>` of the UTF-8 bytes of `text` (or of the bytes given). */
export function computeDigest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}
