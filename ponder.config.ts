import { createConfig } from "ponder";
import { buildPonderConfig } from "./src/chains/evm/build-ponder-config.js";
import { loadPonderPlan } from "./src/chains/evm/ponder-plan.js";

// Backstop's EVM indexing. Backstop starts Ponder as a child process (`backstop index --chain <evm chain>`,
// `backstop start`) and hands it a plan file built from chains/*.ts and the operator's backstop.config.ts
// (env BACKSTOP_PONDER_PLAN; RPC URLs in the environment variables the plan names). The config is typed
// loosely (`any`) because its chains and sources come from the operator's file, not from literals here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export default createConfig(buildPonderConfig(loadPonderPlan(), process.env) as any);
