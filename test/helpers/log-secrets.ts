// Child process for test/lib/logger.test.ts: logs, through the real logger, a nested object holding
// every kind of secret (SECRETS, exported for the test), in the format given as argv[2].
import { pathToFileURL } from "node:url";
import { BackstopError } from "../../src/lib/errors.js";
import { createLogger } from "../../src/lib/logger.js";

/** Each secret carries a marker the test greps for; every one must be gone from the output. */
export const SECRETS = {
  rpcPassword: "Zq7S3CR3T01rpcpass",
  rpcQueryKey: "S3CR3T02heliusKey",
  rpcPathKey: "S3CR3T03alchemyKey",
  slackPath: "S3CR3T04slackHook",
  routingKey: "R0S3CR3T05pagerdutyroutingkey",
  hmac: "whsec_S3CR3T06MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  bearer: "S3CR3T07bearerToken.abc",
  apiKeyHeader: "S3CR3T08headerKey",
  dbPassword: "S3CR3T09dbpass",
  signingKey: "S3CR3T10c2lnbmluZy1rZXktc2VlZA==",
  textToken: "S3CR3T11texttoken",
  pemBody: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC S3CR3T13pem",
  xprv: "xprv9s21ZrQH143K3S3CR3T14GDVe7rk2pB5kSLJbQvPtEt5jq8Ug2KdTBcPYUrqeYtHFxqabH9BP7kZCgz9nNbJPnTa5ESdmb8BDMRdXNa",
  errorPath: "S3CR3T15errorHook",
  causeToken: "S3CR3T16causeBearer",
  evmKey: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
  numericApiKey: 987654321012,
  arraySecret: "S3CR3T17inArray",
};

/** Values that must survive: they are what an operator needs to read a log. */
export const KEPT = {
  blockhash: "5Y5TJWFpV6RBmTtJWxLLhZqKxVVFdaP1hVYuzkUAWbNE",
  signature: "4tBgYVkQr2oumjDHs4AojKgEAebGWAUZ7wJBWd7HVmBZTvYcqS3ybhJRJWSnzaH4LrwYJyXM7kVfVLFcPUhsqtG1",
  txHash: "0x9fc76417374aa880d4449a1f7f31ec597f00b1f6f3dd2d66f4c9c6c445836d8b",
  hosts: ["mainnet.helius-rpc.com", "solana-mainnet.g.alchemy.com", "hooks.slack.com", "events.pagerduty.com"],
};

/** Logs the secrets through the real logger in `format`, once each way a caller logs. */
export function logSecrets(format: "json" | "pretty"): void {
  const s = SECRETS;
  const logger = createLogger({ format, level: "info" });
  const cause = new Error(`401 from events.pagerduty.com for Bearer ${s.causeToken}`);
  const err = new BackstopError("RPC__TRANSPORT", `POST https://hooks.slack.com/services/T0/B0/${s.errorPath} failed`, { cause, meta: [`  routing_key=${s.routingKey}`] });
  const child = logger.child({ chain: "sol", rpc: `https://u:${s.rpcPassword}@mainnet.helius-rpc.com/?api-key=${s.rpcQueryKey}` });
  child.info({
    msg: "alert delivery configured",
    block: 312_000_001,
    hash: KEPT.blockhash,
    txid: KEPT.signature,
    evm_tx: KEPT.txHash,
    config: {
      rpc: [`https://solana-mainnet.g.alchemy.com/v2/${s.rpcPathKey}`],
      sinks: [
        { kind: "slack", url: `https://hooks.slack.com/services/T000/B000/${s.slackPath}` },
        { kind: "pagerduty", routingKey: s.routingKey, host: "events.pagerduty.com" },
        { kind: "webhook", signing: { hmacSecret: s.hmac } },
      ],
      headers: { Authorization: `Bearer ${s.bearer}`, "x-api-key": s.apiKeyHeader },
      database: { password: { value: s.dbPassword, rotated: true } },
      apiKey: s.numericApiKey,
      list: [["nested", { secret: [s.arraySecret] }]],
    },
    keys: { signingKey: s.signingKey, privateKey: s.evmKey, secretKey: new Uint8Array(64).fill(7) },
    note: `posted with token=${s.textToken}; key file -----BEGIN PRIVATE KEY-----\n${s.pemBody}\n-----END PRIVATE KEY----- and ${s.xprv}`,
    leak: `hmac ${s.hmac}`,
  });
  child.error({ err }, "delivery failed");
  child.error(err);
  child.warn("printf %s and %o", `https://hooks.slack.com/services/T1/B1/${s.slackPath}`, { token: s.textToken });
  logger.flush();
}

// Run as a script (the test spawns it); importing the module for SECRETS and KEPT logs nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) logSecrets(process.argv[2] === "pretty" ? "pretty" : "json");
