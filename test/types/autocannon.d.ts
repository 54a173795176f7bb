declare module "autocannon" {
  type Result = { requests: { average: number; total: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  /** Runs an HTTP load test (autocannon's programmatic API). */
  export default function autocannon(opts: Record<string, unknown>): Promise<Result>;
}
