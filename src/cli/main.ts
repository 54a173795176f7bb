import { CommanderError } from "commander";
import { isBackstopError } from "../lib/errors.js";
import { redact } from "../lib/logger.js";
import { createProgram } from "./program.js";

/**
 * Runs the CLI. A BackstopError prints its shortMessage and meta lines to
 * stderr (redacted) and exits 1; anything else is a bug and prints its stack.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isBackstopError(err)) {
      process.stderr.write(`${redact([`error ${err.code}: ${err.shortMessage}`, ...err.metaMessages].join("\n"))}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`${redact(String((err as Error)?.stack ?? err))}\n`);
    process.exitCode = 2;
  }
}
