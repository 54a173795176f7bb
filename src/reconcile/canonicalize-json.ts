import { NonCanonicalValueError } from "./errors.js";

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object members sorted by their names' UTF-16 code
 * units, no whitespace, strings and numbers serialised as ECMAScript's JSON.stringify does (which is
 * what RFC 8785 section 3.2.2 specifies). Amounts never reach here as numbers: they are strings.
 * @throws NonCanonicalValueError for non-finite numbers, bigint, undefined, functions, symbols
 */
export function canonicalizeJson(value: unknown): string {
  return serialize(value, "$");
}

function serialize(v: unknown, path: string): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "string":
      return JSON.stringify(v);
    case "number":
      if (!Number.isFinite(v)) throw new NonCanonicalValueError({ path, problem: `${v} is not a JSON number` });
      return JSON.stringify(v); // -0 becomes 0, as RFC 8785 requires
    case "object": {
      if (Array.isArray(v)) return `[${v.map((x, i) => serialize(x, `${path}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new NonCanonicalValueError({ path, problem: "not a plain object" });
      const obj = v as Record<string, unknown>;
      // Default string comparison is by UTF-16 code units: exactly RFC 8785's member order.
      const keys = Object.keys(obj).sort();
      const parts: string[] = [];
      for (const k of keys) {
        if (obj[k] === undefined) throw new NonCanonicalValueError({ path: `${path}.${k}`, problem: "undefined is not a JSON value" });
        parts.push(`${JSON.stringify(k)}:${serialize(obj[k], `${path}.${k}`)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new NonCanonicalValueError({ path, problem: `a ${typeof v} is not a JSON value` });
  }
}
