/**
 * Resuming after a reconnect, client side (docs/protocol.md, "Resuming after a
 * reconnect"). Pure. The client sends `since` (each symbol's last `seq` and its
 * epoch, from the book: {@link since}); the `subscribed` reply says per symbol
 * how it came back ({@link outcomes}):
 *
 * - `recovered`: the `replayed` updates missed follow, each `seq` one above the
 *   last, then a `status`; no snapshot, so the book carries on without a gap.
 * - not recovered (`reason`: `too_old`, `epoch_changed`, …): a snapshot follows
 *   and replaces the quote; the `seq` it skipped (same epoch) is the gap.
 */
/** Where a symbol's sequence stands, for `since`: only once a snapshot gave its epoch. */
export function since(book, symbol) {
    const q = book.get(symbol);
    return q?.epoch === undefined ? undefined : { seq: q.seq, epoch: q.epoch };
}
/** The `resume` object of a `subscribed` reply, per symbol (empty without one). */
export function outcomes(m) {
    const out = new Map();
    for (const [symbol, r] of Object.entries(m.resume ?? {})) {
        if (typeof r !== "object" || r === null)
            continue;
        const entry = {
            recovered: r.recovered === true,
            replayed: Number.isInteger(r.replayed) ? r.replayed : 0,
        };
        if (typeof r.reason === "string")
            entry.reason = r.reason;
        out.set(symbol, entry);
    }
    return out;
}
