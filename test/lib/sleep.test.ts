import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { sleep } from "../../src/lib/sleep.js";

describe("sleep", () => {
  it("leaves no abort listener behind on a long-lived signal (a follower sleeps on it every poll)", async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await sleep(1, ac.signal);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });
  it("resolves at once when aborted, before or during the wait", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const waiting = sleep(10_000, ac.signal);
    ac.abort();
    await waiting;
    await sleep(10_000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
