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

import { type Day, dayChange, mergeDay, toDay } from "./day.js";
import type { DayMessage, SnapshotMessage, Status, StatusMessage, UpdateMessage } from "./messages.js";

/** One symbol's top of book. */
export interface Quote {
  readonly symbol: string;
  /** per-symbol sequence number of the last message applied */
  readonly seq: number;
  /** source time of the last tick, µs since the Unix epoch */
  readonly ts: number;
  readonly status: Status | (string & {});
  readonly bid: number | null;
  readonly ask: number | null;
  readonly bidSize: number | null;
  readonly askSize: number | null;
  /** the sequence's identity, from servers that send one (resume) */
  readonly epoch?: string;
  /** the trading day's statistics; null before the symbol's first tick (or from a server without them) */
  readonly day: Day | null;
  /** bid − the previous close, at the symbol's decimals; null without either */
  readonly change: number | null;
  /** 100 × change / the previous close, 2 decimals; null without a change */
  readonly changePct: number | null;
  /** when the market next opens / closes, µs since the epoch; null: never (or not said) */
  readonly nextOpen: number | null;
  readonly nextClose: number | null;
}

/** What one message (or a disconnect) did to a symbol's quote. */
export interface Change {
  readonly quote: Quote;
  readonly previous: Quote | undefined;
  /** updates merged into this one (a `seq` gap), or a snapshot skipped; 0 when none */
  readonly gap: number;
  /** the message applied; absent when the client marked the quote stale itself */
  readonly message?: QuoteMessage;
}

export type QuoteMessage = SnapshotMessage | UpdateMessage | StatusMessage | DayMessage;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Wire field -> quote field, for the values a snapshot carries and an update may carry. */
const FIELDS = [
  ["bid", "bid"],
  ["ask", "ask"],
  ["bid_size", "bidSize"],
  ["ask_size", "askSize"],
] as const;

export class QuoteBook {
  readonly #quotes = new Map<string, Quote>();
  /** updates merged away (sum of gaps), and messages dropped by the rules above */
  readonly stats = { gaps: 0, oldSeq: 0, noSnapshot: 0 };

  get(symbol: string): Quote | undefined {
    return this.#quotes.get(symbol);
  }

  has(symbol: string): boolean {
    return this.#quotes.has(symbol);
  }

  get size(): number {
    return this.#quotes.size;
  }

  symbols(): string[] {
    return [...this.#quotes.keys()];
  }

  [Symbol.iterator](): IterableIterator<Quote> {
    return this.#quotes.values();
  }

  /** Apply one message; the change it made, or null when the rules drop it. */
  apply(m: QuoteMessage): Change | null {
    const previous = this.#quotes.get(m.symbol);
    let quote: Mutable<Quote>;
    let gap = 0;
    if (m.type === "snapshot") {
      quote = { symbol: m.symbol, seq: m.seq, ts: m.ts ?? 0, status: m.status ?? "live",
        bid: null, ask: null, bidSize: null, askSize: null, day: toDay(m.day), change: null, changePct: null,
        nextOpen: m.next_open ?? null, nextClose: m.next_close ?? null }; // prettier-ignore
      for (const [wire, field] of FIELDS) quote[field] = m[wire] ?? null;
      if (typeof m.epoch === "string") quote.epoch = m.epoch;
      if (previous && previous.epoch === quote.epoch && m.seq > previous.seq) gap = m.seq - previous.seq;
      this.stats.gaps += gap;
    } else if (!previous) {
      this.stats.noSnapshot++;
      return null;
    } else if (m.type === "update") {
      if (m.seq <= previous.seq) {
        this.stats.oldSeq++;
        return null;
      }
      quote = { ...previous, seq: m.seq, ts: m.ts ?? previous.ts };
      for (const [wire, field] of FIELDS) if (wire in m) quote[field] = m[wire] ?? null;
      if (m.day && previous.day) quote.day = mergeDay(previous.day, m.day);
      gap = m.seq - previous.seq - 1;
      this.stats.gaps += gap;
    } else if (m.type === "status") {
      quote = { ...previous, status: m.status };
      if (typeof m.next_open === "number") quote.nextOpen = m.next_open;
      if (typeof m.next_close === "number") quote.nextClose = m.next_close;
    } else {
      quote = { ...previous, day: toDay(m.day) };
    }
    if (m.type !== "status") [quote.change, quote.changePct] = dayChange(quote.bid, quote.day);
    this.#quotes.set(m.symbol, quote);
    return { quote, previous, gap, message: m };
  }

  /** Drop symbols now, so late messages for them are ignored. */
  forget(symbols: Iterable<string>): void {
    for (const s of symbols) this.#quotes.delete(s);
  }

  /** Every quote turns `stale` (the connection is gone); the quotes that changed. */
  markStale(): Change[] {
    const changes: Change[] = [];
    for (const [symbol, previous] of this.#quotes) {
      if (previous.status === "stale") continue;
      const quote = { ...previous, status: "stale" };
      this.#quotes.set(symbol, quote);
      changes.push({ quote, previous, gap: 0 });
    }
    return changes;
  }
}

/** Mid price, or null while a side is missing. */
export function mid(q: Quote): number | null {
  return q.bid === null || q.ask === null ? null : (q.bid + q.ask) / 2;
}

/** Ask minus bid, or null while a side is missing. */
export function spread(q: Quote): number | null {
  return q.bid === null || q.ask === null ? null : q.ask - q.bid;
}
