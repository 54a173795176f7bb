#!/usr/bin/env node
// The `backstop` command: runs the TypeScript sources through tsx's loader
// (no build step, so `npx backstop` works straight from a clone).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main(process.argv);
