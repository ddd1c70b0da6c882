/**
 * Reconnect delays: a pure generator, so tests take delays without sleeping.
 *
 * Each delay is drawn uniformly from [cap/2, cap] while the cap doubles from
 * `initialMs` to `maxMs` ("equal jitter"): a crowd of clients dropped by one
 * server restart spreads its reconnects instead of arriving in step, and no
 * client waits less than half the cap.
 */

export interface BackoffOptions {
  /** first cap, ms (default 500) */
  initialMs?: number;
  /** largest cap, ms (default 30000) */
  maxMs?: number;
  /** uniform in [0, 1); inject a seeded one in tests */
  random?: () => number;
}

export function* backoff(options: BackoffOptions = {}): Generator<number, never, void> {
  const { initialMs = 500, maxMs = 30_000, random = Math.random } = options;
  let cap = Math.min(initialMs, maxMs);
  for (;;) {
    yield cap / 2 + random() * (cap / 2);
    cap = Math.min(cap * 2, maxMs);
  }
}
