import { keccak256, type Hex } from "viem";
import { MULTICALL3_ADDRESS } from "../../../abis/multicall3.js";
import { MULTICALL3_CODE_HASH, MULTICALL3_RUNTIME_CODE } from "./multicall3-code.js";

/**
 * Installs the canonical Multicall3 at 0xcA11…CA11 on an anvil node (`anvil_setCode`) and checks its code hash.
 * @throws Error when the node rejects the call or the installed code differs.
 */
export async function deployMulticall3(rpcUrl: string): Promise<void> {
  const call = async (method: string, params: unknown[]) => {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`${method} failed: ${body.error.message}`);
    return body.result;
  };
  await call("anvil_setCode", [MULTICALL3_ADDRESS, MULTICALL3_RUNTIME_CODE]);
  const code = (await call("eth_getCode", [MULTICALL3_ADDRESS, "latest"])) as Hex;
  if (keccak256(code) !== MULTICALL3_CODE_HASH) throw new Error("Multicall3 code hash mismatch after anvil_setCode");
}
