import type { IncomingMessage } from "node:http";
import { BodyTooLargeError } from "./http-errors.js";

/**
 * Reads a request body as UTF-8, at most `limitBytes`: a Content-Length over the limit is refused
 * before reading, a body that grows past it is refused as soon as it does (the rest is not buffered).
 * @throws BodyTooLargeError
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > limitBytes) throw new BodyTooLargeError({ limitBytes });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new BodyTooLargeError({ limitBytes });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
