// Numbers, money, changes, dates and date ranges for the dashboard's locale, all through Intl.
// API dates are calendar days in the merchant's time zone ("2026-11-23"): they are formatted as
// UTC midnights in UTC so no browser time zone can shift them by a day.

import { i18n } from "./i18n.js";

const DASH = "—";

function day(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

export function formatCount(n) {
  return n === null || n === undefined ? DASH : new Intl.NumberFormat(i18n.locale).format(Number(n));
}

export function formatMoney(money) {
  if (!money) return DASH;
  return new Intl.NumberFormat(i18n.locale, { style: "currency", currency: money.currency }).format(Number(money.amount));
}

/** "+40.0%" / "-12.5%" / "—" with the class that colours it (never colour alone: the sign stays). */
export function formatChange(pct) {
  if (pct === null || pct === undefined) return { text: DASH, cls: "" };
  const text = new Intl.NumberFormat(i18n.locale, {
    style: "percent",
    signDisplay: "exceptZero",
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  }).format(pct / 100);
  return { text, cls: pct > 0 ? "positive" : pct < 0 ? "negative" : "" };
}

/** A date and time in the browser's time zone ("23 lis 2026, 14:05"). */
export function formatTime(iso) {
  return iso ? new Intl.DateTimeFormat(i18n.locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : DASH;
}

/** The date of a UTC timestamp in the browser's time zone ("23 lis 2026"). */
export function formatDate(iso) {
  return iso ? new Intl.DateTimeFormat(i18n.locale, { dateStyle: "medium" }).format(new Date(iso)) : DASH;
}

/** "12 Oct – 10 Nov" style ranges; the year is shown when it is not the current one. */
export function formatRange(start, end) {
  const first = day(start);
  const last = day(end);
  const thisYear = new Date().getUTCFullYear();
  const options = { day: "numeric", month: "short", timeZone: "UTC" };
  if (first.getUTCFullYear() !== thisYear || last.getUTCFullYear() !== thisYear) options.year = "numeric";
  return new Intl.DateTimeFormat(i18n.locale, options).formatRange(first, last);
}

/** The label of one chart interval starting on `start`: a day, the week's first day, or a month. */
export function formatBucket(start, interval) {
  const options = interval === "month" ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" };
  return new Intl.DateTimeFormat(i18n.locale, { ...options, timeZone: "UTC" }).format(day(start));
}

/** "5 minutes ago" / "in 2 hours" by Intl.RelativeTimeFormat. */
export function formatRelative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const rtf = new Intl.RelativeTimeFormat(i18n.locale, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(seconds, "second");
}
