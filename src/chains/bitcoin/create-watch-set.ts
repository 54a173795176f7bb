import { ByteKeyTable } from "./byte-key-table.js";

/**
 * What the Bitcoin scan path looks for: watched scriptPubKeys (custody addresses,
 * including every derived descriptor address inside the gap limit) and the custody
 * UTXO set as outpoints. Keys are stored in wire form, so `scanBlock` probes them at
 * their offset in the raw block: scripts as their bytes, outpoints as the 36 bytes an
 * input carries (txid in internal byte order, then vout as uint32 little-endian).
 *
 * The indexer keeps one WatchSet alive across blocks: `addOutpoint` for each custody
 * output a block creates, `deleteOutpoint` for each one it spends (and the reverse
 * on rollback, or rebuild it from the store).
 */
export type WatchSet = {
  readonly scripts: ByteKeyTable;
  readonly outpoints: ByteKeyTable;
  /** Adds a scriptPubKey (hex or bytes); false when already present. */
  addScript(script: string | Uint8Array): boolean;
  /** True when the scriptPubKey (hex or bytes) is watched. */
  hasScript(script: string | Uint8Array): boolean;
  /** Adds a custody outpoint (txid as display hex); false when already present. @throws TypeError on a bad txid or vout */
  addOutpoint(txid: string, vout: number): boolean;
  /** Removes a custody outpoint (spent, or rolled back); false when absent. @throws TypeError on a bad txid or vout */
  deleteOutpoint(txid: string, vout: number): boolean;
  /** True when the outpoint (txid as display hex) is a custody outpoint. @throws TypeError on a bad txid or vout */
  hasOutpoint(txid: string, vout: number): boolean;
};

/** Parameters of createWatchSet: scripts as hex or bytes, outpoints as "txid:vout" or objects. */
export type CreateWatchSetParameters = {
  scripts?: Iterable<string | Uint8Array>;
  outpoints?: Iterable<string | { txid: string; vout: number }>;
};

/** Builds a WatchSet. @throws TypeError on a malformed hex script or outpoint */
export function createWatchSet(p: CreateWatchSetParameters = {}): WatchSet {
  const scripts = new ByteKeyTable(sizeHint(p.scripts));
  const outpoints = new ByteKeyTable(sizeHint(p.outpoints));
  const set: WatchSet = {
    scripts,
    outpoints,
    addScript: (s) => scripts.add(scriptBytes(s)),
    hasScript: (s) => scripts.has(scriptBytes(s)),
    addOutpoint: (txid, vout) => outpoints.add(encodeOutpoint(txid, vout)),
    deleteOutpoint: (txid, vout) => outpoints.delete(encodeOutpoint(txid, vout)),
    hasOutpoint: (txid, vout) => outpoints.has(encodeOutpoint(txid, vout)),
  };
  for (const s of p.scripts ?? []) set.addScript(s);
  for (const o of p.outpoints ?? []) {
    if (typeof o === "string") {
      const { txid, vout } = parseOutpoint(o);
      set.addOutpoint(txid, vout);
    } else set.addOutpoint(o.txid, o.vout);
  }
  return set;
}

/** Wire form of an outpoint: 32-byte txid in internal (reversed) order + vout uint32 LE. @throws TypeError */
export function encodeOutpoint(txid: string, vout: number): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(txid)) throw new TypeError(`Invalid txid ${JSON.stringify(txid.slice(0, 80))}.`);
  if (!Number.isInteger(vout) || vout < 0 || vout > 0xffffffff) throw new TypeError(`Invalid vout ${vout}.`);
  const b = Buffer.alloc(36);
  Buffer.from(txid, "hex").reverse().copy(b, 0);
  b.writeUInt32LE(vout, 32);
  return b;
}

/** Parses "txid:vout" (txid as display hex). @throws TypeError */
export function parseOutpoint(text: string): { txid: string; vout: number } {
  const m = /^([0-9a-fA-F]{64}):(\d{1,10})$/.exec(text);
  if (!m) throw new TypeError(`Invalid outpoint ${JSON.stringify(text.slice(0, 80))}; expected "txid:vout".`);
  return { txid: m[1]!.toLowerCase(), vout: Number(m[2]) };
}

function scriptBytes(s: string | Uint8Array): Uint8Array {
  if (typeof s !== "string") return s;
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError(`Invalid script hex ${JSON.stringify(s.slice(0, 80))}.`);
  return Buffer.from(s, "hex");
}

function sizeHint(it: Iterable<unknown> | undefined): number {
  if (it === undefined) return 16;
  if (Array.isArray(it)) return it.length;
  if (it instanceof Set || it instanceof Map) return it.size;
  return 16;
}
