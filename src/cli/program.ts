import { Command, Option } from "commander";
import { registerAlertsCommands } from "./alerts-command.js";
import { registerApiKeyCommands } from "./api-key-command.js";
import { registerBalancesCommand } from "./balances-command.js";
import { registerCheckpointCommands } from "./checkpoint-command.js";
import { DEFAULT_CONFIG } from "./context.js";
import { registerIndexCommand } from "./index-command.js";
import { registerKeysGenerateCommand } from "./keys-generate-command.js";
import { registerLiabilitiesCommands } from "./liabilities.js";
import { registerMovementsCommands } from "./movements-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerStartCommand } from "./start-command.js";
import { registerStatusCommand } from "./status-command.js";

/** Builds the `backstop` command line. */
export function createProgram(): Command {
  const program = new Command("backstop")
    .description("Backstop: multi-chain custody reserve monitor")
    .option("--config <path>", "config file (.ts, .js or .json)", DEFAULT_CONFIG)
    .option("--env-file <path>", "NAME=value lines (mode 0600) for the config's env references, laid over the environment; never passed to child processes")
    .option("-v, --verbose", "more logs (-vv: trace)", (_v: string, n: number) => n + 1, 0)
    .addOption(new Option("--log-format <format>", "log format on stderr").choices(["json", "pretty"]))
    .showHelpAfterError()
    .exitOverride();
  registerStartCommand(program);
  registerIndexCommand(program);
  registerBalancesCommand(program);
  registerStatusCommand(program);
  registerLiabilitiesCommands(program);
  registerMovementsCommands(program);
  registerServeCommand(program);
  registerApiKeyCommands(program);
  registerKeysGenerateCommand(program);
  registerCheckpointCommands(program);
  registerAlertsCommands(program);
  return program;
}
