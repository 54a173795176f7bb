import type { Command } from "commander";
import { createSigningKey } from "../reconcile/signing-key.js";

/**
 * `backstop keys generate [--json]`: a new Ed25519 checkpoint signing key (for the environment: never in a
 * config file) and its public JWK, with the checkpoints.keys entry to publish. Registers under `keys`.
 */
export function registerKeysGenerateCommand(program: Command) {
  const keys = program.commands.find((c) => c.name() === "keys") ?? program.command("keys").description("API keys and signing keys");
  keys
    .command("generate")
    .description("create a checkpoint signing key: prints it once (for the environment) and its public JWK")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const k = createSigningKey();
      const entry = { x: k.jwk.x, notBefore: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z") };
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ signingKey: k.text, jwk: k.jwk, config: entry }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          `signing key (shown once; put it in the environment, e.g. BACKSTOP_CHECKPOINT_KEY): ${k.text}`,
          `public JWK (kid = RFC 7638 thumbprint): ${JSON.stringify(k.jwk)}`,
          'config: checkpoints.signingKey = env("BACKSTOP_CHECKPOINT_KEY"), and add to checkpoints.keys:',
          `  ${JSON.stringify(entry)}`,
          "",
        ].join("\n"),
      );
    });
}
