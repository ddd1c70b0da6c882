/**
 * Reconnect delays: a pure generator, so tests take delays without sleeping.
 *
 * Each delay is drawn uniformly from [cap/2, cap] while the cap doubles from
 * `initialMs` to `maxMs` ("equal jitter"): a crowd of clients dropped by one
 * server restart spreads its reconnects instead of arriving in step, and no
 * client waits less than half the cap.
 */
export function* backoff(options = {}) {
    const { initialMs = 500, maxMs = 30_000, random = Math.random } = options;
    let cap = Math.min(initialMs, maxMs);
    for (;;) {
        yield cap / 2 + random() * (cap / 2);
        cap = Math.min(cap * 2, maxMs);
    }
}
