const MARK = "\u0000bigint:";
const MARK_RE = /"\\u0000bigint:(-?\d+)"/g;

/** JSON.stringify that writes bigints as bare JSON integers (as a validator writes u64), so no precision is lost. */
export function stringifyRpcJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? MARK + v.toString() : v)).replace(
    MARK_RE,
    "$1",
  );
}
