/**
 * The trading day in the book (docs/protocol.md, "The trading day's
 * statistics"): the day's statistics as the book keeps them, and the day's
 * change, computed from the bid exactly as the server computes it. Pure.
 *
 * - A snapshot's `day` and a `day` message (the day rolled) give the whole
 *   day; an update's `day` carries only the fields that tick changed (a new
 *   `open`, `high` or `low`) and is merged in. `ticks` comes only whole.
 * - `change` is bid − prev_close rounded to the symbol's decimals, once the
 *   day has had a tick (the server's day starts with no change). The
 *   decimals need not be known: both prices arrive rounded to them, so their
 *   exact decimal difference has no more places than the longer of the two as
 *   JavaScript prints them (its shortest round trip), and rounding to those
 *   places removes the binary noise exactly as rounding to the symbol's
 *   decimals does. (The Python client takes the same decimal difference.)
 * - `changePct` is 100 × change / prev_close rounded to 2 decimals, with the
 *   server's rounding (Python's `round`: the nearest, an exact tie to even),
 *   so a board shows the numbers a snapshot carries.
 */

import type { DayStats } from "./messages.js";

/** A symbol's trading day: prices are bids, null where not known yet. */
export interface Day {
  /** ISO date; an FX day is named after its end (`"2024-03-12"` began Monday 17:00 New York) */
  readonly date: string;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  /** last bid of the previous trading day */
  readonly prevClose: number | null;
  /** ticks in the day as of the last snapshot or `day` message (updates do not count them) */
  readonly ticks: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A wire `day` object as a {@link Day}; null for null or anything without a `date`. */
export function toDay(d: DayStats | null | undefined): Day | null {
  if (typeof d !== "object" || d === null || typeof d.date !== "string") return null;
  return { date: d.date, open: num(d.open), high: num(d.high), low: num(d.low), prevClose: num(d.prev_close), ticks: num(d.ticks) ?? 0 };
}

/** An update's `day` fields merged into the day (only `open`, `high`, `low` travel on updates). */
export function mergeDay(day: Day, changed: Partial<Pick<DayStats, "open" | "high" | "low">>): Day {
  const out = { ...day };
  for (const f of ["open", "high", "low"] as const) if (f in changed) out[f] = num(changed[f]);
  return out;
}

/** Decimal places of a number as JavaScript prints it: 1.0841 → 4, 151.2 → 1, 2.5e-7 → 8. */
function places(x: number): number {
  const [digits = "", exp = "0"] = String(x).split("e");
  return Math.max(0, (digits.split(".")[1]?.length ?? 0) - Number(exp));
}

/** `x` rounded to `d` decimals as Python's `round(x, d)` does: the nearest, an exact tie to the even one. */
export function round(x: number, d: number): number {
  // x is an exact tie at d decimals when x × 2^(d+1) is an odd integer (and then x × 10^d is k + 0.5 exactly).
  const twice = x * 2 ** (d + 1);
  if (Number.isInteger(twice) && twice % 2 !== 0) {
    const k = Math.floor(x * 10 ** d);
    return (k % 2 === 0 ? k : k + 1) / 10 ** d;
  }
  return Number(x.toFixed(d)); // the exact value rounded (a small loss to 2 decimals is -0, as Python's)
}

/**
 * The day's change and change % at a bid, as the server computes them: nulls
 * without a bid, a previous close (or one of 0), or a tick in the day yet (a
 * day just rolled has no change until its first tick: its `open` is null).
 */
export function dayChange(bid: number | null, day: Day | null): [number | null, number | null] {
  const prevClose = day?.prevClose;
  if (bid === null || !prevClose || day.open === null) return [null, null];
  const change = round(bid - prevClose, Math.max(places(bid), places(prevClose)));
  return [change, round((100 * change) / prevClose, 2)];
}
