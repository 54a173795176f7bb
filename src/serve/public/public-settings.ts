import { z } from "zod";
import { ConfigError } from "../../lib/errors.js";
import type { ResolvedConfig } from "../../lib/config.js";

const publicSchema = z
  .object({
    /**
     * Seconds after the latest checkpoint's snapshot time beyond which the feed is STALE. Default 90000
     * (25 h: a daily snapshot cadence plus one hour for finality and signing).
     */
    staleAfterSeconds: z.number().int().min(60).max(31_536_000).optional(),
    /** Public requests per second per client address (token bucket refill). Default 20. */
    rateLimitPerSecond: z.number().min(0.01).max(1_000_000_000).optional(),
    /** Burst per client address (the bucket's size). Default 300: the page, its scripts, the JWKS and 100 checkpoints at once. */
    rateLimitBurst: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .strict();

/** The public feed's settings with defaults applied (config section `public`). */
export type PublicSettings = { staleAfterSeconds: number; rateLimitPerSecond: number; rateLimitBurst: number };

/** Defaults of the `public` config section. */
export const PUBLIC_DEFAULTS: PublicSettings = { staleAfterSeconds: 90_000, rateLimitPerSecond: 20, rateLimitBurst: 300 };

/**
 * Reads the optional `public` section of the config (kept in `config.raw`: this module owns it).
 * @throws ConfigError listing every problem with its path
 */
export function resolvePublicSettings(config: Pick<ResolvedConfig, "path" | "raw">): PublicSettings {
  const r = publicSchema.safeParse(config.raw.public ?? {});
  if (!r.success) throw new ConfigError({ path: config.path, problems: r.error.issues.map((i) => `public${i.path.map((p) => `.${String(p)}`).join("")}: ${i.message}`) });
  return { ...PUBLIC_DEFAULTS, ...Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== undefined)) };
}
