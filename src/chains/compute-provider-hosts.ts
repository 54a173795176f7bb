/**
 * Names of a chain's providers for messages and health: the URL's host and port, never credentials, path or
 * query (where keys live). Two URLs on the same host get `#2`, `#3`... in config order. Pure.
 */
export function computeProviderHosts(urls: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return urls.map((u) => {
    let host: string;
    try {
      host = new URL(u).host;
    } catch {
      host = "(invalid url)";
    }
    const n = (seen.get(host) ?? 0) + 1;
    seen.set(host, n);
    return n === 1 ? host : `${host}#${n}`;
  });
}

/** The URLs rotated so that `first` comes first, then the others in config order (a client's failover order). */
export function rotateUrls(urls: readonly string[], first: number): string[] {
  return [...urls.slice(first), ...urls.slice(0, first)];
}
