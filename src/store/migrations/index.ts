import { migration0001 } from "./0001-core.js";
import { migration0002 } from "./0002-liabilities.js";
import { migration0003 } from "./0003-instance-locks.js";
import { migration0009 } from "./0009-serve-indexes.js";
import type { Migration } from "./types.js";

export type { Migration };

/** Every migration, in id order. Ids: 1 core, 2 liabilities, 3 instance locks, 9 API read indexes. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0009];
