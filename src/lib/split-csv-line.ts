/**
 * RFC 4180 split of one CSV line (no embedded newlines): the fields, or null when a quote is left open,
 * or the 1-based column of a quote inside an unquoted field (or text after a closing quote). The one CSV
 * splitter of the liabilities and movements importers.
 */
export function splitCsvLine(line: string): string[] | null | { strayQuoteColumn: number } {
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let value = "";
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q === -1) return null;
        value += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) { value += '"'; j = q + 2; continue; }
        j = q + 1;
        break;
      }
      fields.push(value);
      if (j === line.length) return fields;
      if (line.charCodeAt(j) !== 44 /* , */) return { strayQuoteColumn: fields.length };
      i = j + 1;
      if (i === line.length) { fields.push(""); return fields; }
    } else {
      const comma = line.indexOf(",", i);
      const end = comma === -1 ? line.length : comma;
      const value = line.slice(i, end);
      if (value.includes('"')) return { strayQuoteColumn: fields.length + 1 };
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
      if (i === line.length) { fields.push(""); return fields; }
    }
  }
}
