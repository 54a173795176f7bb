/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection; ASVS 1.2.10). */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV cell, safe to open in a spreadsheet: a value starting with `=`, `+`, `-`, `@`, TAB or CR (or
 * their full-width forms) gets a leading `'` so it stays text; RFC 4180 quoting when it holds a comma,
 * quote or line break. Numbers are written as decimal strings by the caller, never negative here.
 */
export function formatCsvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV line (CRLF-free, `\n`-terminated) of formula-safe cells. */
export function formatCsvRow(values: readonly string[]): string {
  return `${values.map(formatCsvCell).join(",")}\n`;
}
