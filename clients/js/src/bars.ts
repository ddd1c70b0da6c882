/**
 * Bars as the client keeps them: every followed series (symbol × interval),
 * its bars by `start`, oldest first. Pure: messages in, changes out. The
 * server builds the bars (docs/protocol.md, "Bars"); the rules here are the
 * protocol's, and the Python client's `ticker.client.bars`:
 *
 * - A `bars` snapshot replaces the series (a subscribe, a resubscribe after a
 *   reconnect, or a gateway that reloaded it).
 * - A bar replaces the one with its `start` only when its `seq` is higher:
 *   the newest state wins, whatever order a REST read ({@link BarStore.merge})
 *   and the stream arrive in. A correction (`corrected`, a late tick in a
 *   closed bar) is applied like any newer state, wherever the bar sits.
 * - A `bar` for a series without a snapshot is dropped: a subscription given
 *   up, or not yet confirmed.
 * - A `seq` gap in a series means forming updates were merged (at most one per
 *   frame, or per `throttleMs`). Nothing is lost, since each message carries
 *   the whole bar: the gap is counted, nothing is re-requested.
 * - A series keeps at most `maxBars` bars (the oldest go first): a 1 s chart
 *   left open for a day must not grow without bound.
 */

import type { Bar, BarMessage, BarsMessage } from "./messages.js";

/** What one `bar` message did to its series. */
export interface BarChange {
  readonly bar: Bar;
  /** the state this bar replaced (same `start`); absent for a new bar */
  readonly previous: Bar | undefined;
  /** messages of the series merged before this one (forming updates); 0 when none */
  readonly gap: number;
}

interface Series {
  /** sorted by start */
  readonly bars: Bar[];
  /** the newest seq the stream gave (a REST merge does not move it) */
  seq: number;
}

const SEP = "\u0000";

/** A series' key: bar intervals have no separator in them, so it splits back (see {@link splitKey}). */
export const seriesKey = (symbol: string, interval: string): string => symbol + SEP + interval;

/** `[symbol, interval]` of a series key, or undefined for a plain symbol (or whatever a caller passed as one). */
export function splitKey(key: string): [string, string] | undefined {
  const at = typeof key === "string" ? key.lastIndexOf(SEP) : -1;
  return at < 0 ? undefined : [key.slice(0, at), key.slice(at + 1)];
}

const isInt = Number.isInteger;

/** A well-formed bar with only the fields it should have, or null. */
function clean(m: Bar, symbol = m.symbol, interval = m.interval): Bar | null {
  if (!isInt(m.start) || !isInt(m.seq)) return null;
  const { start, end, open, high, low, close, ticks, seq } = m;
  const bar: Bar = { symbol, interval, start, end, open, high, low, close, ticks, seq, closed: m.closed === true };
  if (m.corrected === true) bar.corrected = true;
  return bar;
}

export class BarStore {
  readonly #series = new Map<string, Series>();
  /** merged forming updates (sum of gaps); bars dropped: not newer than the held state, no series, malformed */
  readonly stats = { gaps: 0, oldSeq: 0, noSeries: 0, malformed: 0 };

  constructor(readonly maxBars = 10_000) {}

  /** A series' bars, oldest first; the forming one (`closed` false), if any, is last. */
  get(symbol: string, interval: string): Bar[] {
    return this.#series.get(seriesKey(symbol, interval))?.bars.slice() ?? [];
  }

  /** The newest bar of a series (the forming one while it forms). */
  last(symbol: string, interval: string): Bar | undefined {
    return this.#series.get(seriesKey(symbol, interval))?.bars.at(-1);
  }

  has(symbol: string, interval: string): boolean {
    return this.#series.has(seriesKey(symbol, interval));
  }

  /** Every series held, as `[symbol, interval]`. */
  series(): [string, string][] {
    return [...this.#series.keys()].map((k) => splitKey(k) as [string, string]);
  }

  /** Take a `bars` snapshot: it replaces the series. Returns its bars, oldest first. */
  replace(m: BarsMessage): Bar[] {
    const series: Series = { bars: [], seq: m.seq };
    this.#series.set(seriesKey(m.symbol, m.interval), series);
    for (const item of m.bars) {
      const bar = typeof item === "object" && item !== null ? clean(item, m.symbol, m.interval) : null;
      if (bar) this.#put(series, bar);
      else this.stats.malformed++;
    }
    return series.bars.slice();
  }

  /** Apply one `bar` message; the change, or null when the rules drop it. */
  apply(m: BarMessage): BarChange | null {
    const series = this.#series.get(seriesKey(m.symbol, m.interval));
    const bar = clean(m);
    if (!series) {
      this.stats.noSeries++;
      return null;
    }
    if (!bar) {
      this.stats.malformed++;
      return null;
    }
    const gap = bar.seq > series.seq + 1 ? bar.seq - series.seq - 1 : 0;
    const previous = this.#put(series, bar);
    if (previous === null) {
      this.stats.oldSeq++;
      return null;
    }
    if (bar.seq > series.seq) series.seq = bar.seq;
    this.stats.gaps += gap;
    return { bar, previous, gap };
  }

  /**
   * Add bars read elsewhere (`GET /api/bars`, {@link fetchBars}) to the series
   * they belong to, where held; the newest state per `start` wins. Returns how
   * many changed the store.
   */
  merge(bars: Iterable<Bar>): number {
    let changed = 0;
    for (const item of bars) {
      const series = this.#series.get(seriesKey(item.symbol, item.interval));
      const bar = series && clean(item);
      if (series && bar && this.#put(series, bar) !== null) changed++;
    }
    return changed;
  }

  /** Drop a series now, so late messages for it are ignored. */
  forget(symbol: string, interval: string): void {
    this.#series.delete(seriesKey(symbol, interval));
  }

  /** Insert or replace by start; the replaced state (undefined: a new bar), or null when not newer. */
  #put(series: Series, bar: Bar): Bar | undefined | null {
    const bars = series.bars;
    let lo = 0;
    let hi = bars.length;
    if (hi && (bars[hi - 1] as Bar).start < bar.start) lo = hi; // the common case: a newer bar
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((bars[mid] as Bar).start < bar.start) lo = mid + 1;
      else hi = mid;
    }
    const held = bars[lo];
    if (held?.start === bar.start) {
      if (held.seq >= bar.seq) return null;
      bars[lo] = bar;
      return held;
    }
    bars.splice(lo, 0, bar);
    if (bars.length > this.maxBars) bars.splice(0, bars.length - this.maxBars);
    return undefined;
  }
}
