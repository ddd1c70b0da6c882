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

import type { QuoteBook } from "./book.js";
import type { ResumeReason, Since, SubscribedMessage } from "./messages.js";

/** How one symbol came back after a reconnect. */
export interface Recovery {
  /** every update missed was replayed, in order: no gap */
  readonly recovered: boolean;
  /** how many missed updates were replayed (0 when none were missed, or not recovered) */
  readonly replayed: number;
  /** why not recovered; a fresh snapshot replaced the quote */
  readonly reason?: ResumeReason | (string & {});
}

/** Where a symbol's sequence stands, for `since`: only once a snapshot gave its epoch. */
export function since(book: QuoteBook, symbol: string): Since | undefined {
  const q = book.get(symbol);
  return q?.epoch === undefined ? undefined : { seq: q.seq, epoch: q.epoch };
}

/** The `resume` object of a `subscribed` reply, per symbol (empty without one). */
export function outcomes(m: SubscribedMessage): Map<string, Recovery> {
  const out = new Map<string, Recovery>();
  for (const [symbol, r] of Object.entries(m.resume ?? {})) {
    if (typeof r !== "object" || r === null) continue;
    const entry: { recovered: boolean; replayed: number; reason?: string } = {
      recovered: r.recovered === true,
      replayed: Number.isInteger(r.replayed) ? (r.replayed as number) : 0,
    };
    if (typeof r.reason === "string") entry.reason = r.reason;
    out.set(symbol, entry);
  }
  return out;
}
