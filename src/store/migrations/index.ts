import { migration0001 } from "./0001-core.js";
import { migration0002 } from "./0002-liabilities.js";
import { migration0003 } from "./0003-instance-locks.js";
import { migration0004 } from "./0004-transfers.js";
import { migration0005 } from "./0005-follower.js";
import { migration0006 } from "./0006-evm-reads.js";
import { migration0007 } from "./0007-checkpoints.js";
import { migration0008 } from "./0008-alerts.js";
import { migration0010 } from "./0010-movements.js";
import { migration0009 } from "./0009-serve-indexes.js";
import { migration0011 } from "./0011-proof-version.js";
import { migration0012 } from "./0012-latest-balances.js";
import { migration0013 } from "./0013-outbox-order.js";
import { migration0014 } from "./0014-movement-indexes.js";
import type { Migration } from "./types.js";

export type { Migration };

/** Every migration, in id order. Ids: 1 core, 2 liabilities, 3 instance locks, 4 transfers, 5 follower, 6 EVM reads (full reads, silent and unattributed changes), 7 checkpoints, 8 alerts, 9 API read indexes, 10 movements, 11 liabilities proof version, 12 latest balance per (wallet, asset), 13 alert outbox order, 14 narrower movement outcome indexes. */
export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008, migration0009, migration0010, migration0011, migration0012, migration0013, migration0014];
