/**
 * The client's picture of the market: the latest quote per symbol, merged
 * from snapshot, update, status and day messages. Pure: messages in, changes out.
 *
 * The rules, in the order {@link QuoteBook.apply} checks them (the same as
 * the Python client's `ticker.client.book`):
 * - A `snapshot` replaces the symbol's quote, its `seq` baseline and its epoch
 *   (a resubscribe, or a reconnect that could not resume, resynchronises this
 *   way). A snapshot that skips `seq` of the same epoch counts what it skipped
 *   as a gap: updates that happened and this client never saw.
 * - An `update` applies on top only when its `seq` is higher. `seq − previous − 1`
 *   is the gap: updates the server merged (conflation, throttling). State stays
 *   right across a gap, since a delta carries the latest value of every field
 *   that changed; the gap is reported, nothing is re-requested. An update whose
 *   `seq` is not higher is a leftover from before a resubscribe: dropped.
 * - Resuming needs nothing special: the quote, its `seq` and epoch stay in the
 *   book across a reconnect, the server replays the missed updates (each `seq`
 *   one above the last) and then a `status`, so a recovered symbol shows no gap.
 * - An update, status or `day` for a symbol without a snapshot is dropped: it
 *   belongs to a subscription already given up ({@link QuoteBook.forget}).
 * - `status` changes the status and the session time it carries (`next_open`
 *   with `closed`, else `next_close`); a time it does not carry stays as it was
 *   (the snapshot gives both; a resume's `status` carries neither).
 * - The trading day (`day.ts`): a snapshot's `day` is the quote's, an update's
 *   `day` fields merge into it, a `day` message (the day rolled) replaces it.
 *   `change` and `changePct` follow the bid and the day's previous close on
 *   every message that moves either, as the server computes them.
 */
import { dayChange, mergeDay, toDay } from "./day.js";
/** Wire field -> quote field, for the values a snapshot carries and an update may carry. */
const FIELDS = [
    ["bid", "bid"],
    ["ask", "ask"],
    ["bid_size", "bidSize"],
    ["ask_size", "askSize"],
];
export class QuoteBook {
    #quotes = new Map();
    /** updates merged away (sum of gaps), and messages dropped by the rules above */
    stats = { gaps: 0, oldSeq: 0, noSnapshot: 0 };
    get(symbol) {
        return this.#quotes.get(symbol);
    }
    has(symbol) {
        return this.#quotes.has(symbol);
    }
    get size() {
        return this.#quotes.size;
    }
    symbols() {
        return [...this.#quotes.keys()];
    }
    [Symbol.iterator]() {
        return this.#quotes.values();
    }
    /** Apply one message; the change it made, or null when the rules drop it. */
    apply(m) {
        const previous = this.#quotes.get(m.symbol);
        let quote;
        let gap = 0;
        if (m.type === "snapshot") {
            quote = { symbol: m.symbol, seq: m.seq, ts: m.ts ?? 0, status: m.status ?? "live",
                bid: null, ask: null, bidSize: null, askSize: null, day: toDay(m.day), change: null, changePct: null,
                nextOpen: m.next_open ?? null, nextClose: m.next_close ?? null }; // prettier-ignore
            for (const [wire, field] of FIELDS)
                quote[field] = m[wire] ?? null;
            if (typeof m.epoch === "string")
                quote.epoch = m.epoch;
            if (previous && previous.epoch === quote.epoch && m.seq > previous.seq)
                gap = m.seq - previous.seq;
            this.stats.gaps += gap;
        }
        else if (!previous) {
            this.stats.noSnapshot++;
            return null;
        }
        else if (m.type === "update") {
            if (m.seq <= previous.seq) {
                this.stats.oldSeq++;
                return null;
            }
            quote = { ...previous, seq: m.seq, ts: m.ts ?? previous.ts };
            for (const [wire, field] of FIELDS)
                if (wire in m)
                    quote[field] = m[wire] ?? null;
            if (m.day && previous.day)
                quote.day = mergeDay(previous.day, m.day);
            gap = m.seq - previous.seq - 1;
            this.stats.gaps += gap;
        }
        else if (m.type === "status") {
            quote = { ...previous, status: m.status };
            if (typeof m.next_open === "number")
                quote.nextOpen = m.next_open;
            if (typeof m.next_close === "number")
                quote.nextClose = m.next_close;
        }
        else {
            quote = { ...previous, day: toDay(m.day) };
        }
        if (m.type !== "status")
            [quote.change, quote.changePct] = dayChange(quote.bid, quote.day);
        this.#quotes.set(m.symbol, quote);
        return { quote, previous, gap, message: m };
    }
    /** Drop symbols now, so late messages for them are ignored. */
    forget(symbols) {
        for (const s of symbols)
            this.#quotes.delete(s);
    }
    /** Every quote turns `stale` (the connection is gone); the quotes that changed. */
    markStale() {
        const changes = [];
        for (const [symbol, previous] of this.#quotes) {
            if (previous.status === "stale")
                continue;
            const quote = { ...previous, status: "stale" };
            this.#quotes.set(symbol, quote);
            changes.push({ quote, previous, gap: 0 });
        }
        return changes;
    }
}
/** Mid price, or null while a side is missing. */
export function mid(q) {
    return q.bid === null || q.ask === null ? null : (q.bid + q.ask) / 2;
}
/** Ask minus bid, or null while a side is missing. */
export function spread(q) {
    return q.bid === null || q.ask === null ? null : q.ask - q.bid;
}
