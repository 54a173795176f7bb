import { migration0001 } from "./0001-core.js";
import { migration0002 } from "./0002-liabilities.js";
import type { Migration } from "./types.js";

export type { Migration };

/** Every migration, in id order. Ids: 1 core, 2 liabilities, 3 evm, 4 solana. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002];
