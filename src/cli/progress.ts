import type { Logger } from "../lib/logger.js";

/** Milliseconds between progress log entries when stderr is not a terminal. */
const LOG_EVERY_MS = 10_000;

/**
 * Catch-up progress: on a TTY a one-line bar on stderr (height/tip, blocks/s
 * over the last few seconds, ETA); otherwise a structured log entry every 10 s.
 * Timing uses the monotonic clock.
 */
export function createProgress(p: { label: string; logger?: Logger }) {
  const tty = process.stderr.isTTY === true;
  let lastLog = performance.now();
  const samples: { t: number; h: number }[] = [];
  let last = 0;
  let shown = false;
  return {
    update: ({ height, tip }: { height: number; tip: number }) => {
      const now = performance.now();
      samples.push({ t: now, h: height });
      while (samples.length > 2 && now - samples[0]!.t > 5000) samples.shift();
      if (!tty) {
        if (p.logger && now - lastLog >= LOG_EVERY_MS) {
          lastLog = now;
          const first = samples[0]!;
          const rate = now > first.t ? ((height - first.h) * 1000) / (now - first.t) : 0;
          p.logger.info({ msg: "catching up", chain: p.label, block: height, tip, blocks_per_s: Number(rate.toFixed(1)), eta_s: rate > 0 ? Math.ceil((tip - height) / rate) : null });
        }
        return;
      }
      if (now - last < 100 && height < tip) return;
      last = now;
      const first = samples[0]!;
      const rate = now > first.t ? ((height - first.h) * 1000) / (now - first.t) : 0;
      const eta = rate > 0 ? Math.ceil((tip - height) / rate) : 0;
      const width = 30;
      const filled = tip > 0 ? Math.min(width, Math.round((height / tip) * width)) : width;
      process.stderr.write(
        `\r${p.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${height}/${tip}  ${rate.toFixed(1)} blocks/s  ETA ${eta}s   `,
      );
      shown = true;
    },
    done: () => {
      if (shown) process.stderr.write("\n");
      shown = false;
    },
  };
}
