// Small dependency-free SVG charts (see README: "Why hand-drawn SVG charts"). Every mark carries
// data-value and a <title>, so the figures are readable without colour and testable.

import { formatCount } from "./format.js";

const W = 960;
const H = 260;
const PAD = { left: 48, right: 16, top: 12, bottom: 28 };
const INNER_H = H - PAD.top - PAD.bottom;
const CHAR_W = 7.5; // about one character of the 13px axis text, in viewBox units

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= value);
}

/** The vertical scale and the plot's left edge, wide enough for the longest axis label. */
function scale(values, integer, format) {
  let top = niceMax(Math.max(0, ...values));
  if (integer && top % 2) top += 1; // counts: whole numbers on the middle grid line too
  const marks = [0, 0.5, 1].map((f) => ({ v: top * f, text: format(top * f) }));
  const left = Math.max(PAD.left, 12 + CHAR_W * Math.max(...marks.map((m) => m.text.length)));
  const y = (v) => PAD.top + INNER_H - (v / top) * INNER_H;
  return { y, left, innerW: W - left - PAD.right, marks };
}

function grid({ y, left, marks }) {
  return marks
    .map((m) => `<line class="axis" x1="${left}" x2="${W - PAD.right}" y1="${y(m.v)}" y2="${y(m.v)}"/>
      <text class="y-label" x="${left - 6}" y="${y(m.v) + 4}" text-anchor="end">${esc(m.text)}</text>`)
    .join("");
}

function ticks(labels, x) {
  return [...new Set([0, Math.floor((labels.length - 1) / 2), labels.length - 1])]
    .filter((i) => i >= 0)
    .map((i, n, all) => {
      const anchor = all.length > 1 && n === 0 ? "start" : n === all.length - 1 && n > 0 ? "end" : "middle";
      return `<text x="${x(i)}" y="${H - 8}" text-anchor="${anchor}">${esc(labels[i])}</text>`;
    })
    .join("");
}

function svg(title, body) {
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${body}</svg>`;
}

/**
 * A line chart. `series`: [{key, name, color, values: [number|null], notes?}] over `labels`;
 * a null value leaves a gap in the line.
 */
export function lineChart({ labels, series, format = formatCount, title, integer = format === formatCount }) {
  const frame = scale(series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined), integer, format);
  const { y, left, innerW } = frame;
  const x = (i) => left + (labels.length <= 1 ? innerW / 2 : (i * innerW) / (labels.length - 1));
  const lines = series
    .map((s) => {
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return void (pen = false);
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      const dots = s.values
        .map((v, i) => (v === null || v === undefined ? "" : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}" data-value="${v}"><title>${esc(labels[i])}: ${esc(format(v))} ${esc(s.name)}${s.notes ? esc(s.notes[i]) : ""}</title></circle>`))
        .join("");
      return `<g class="series" data-series="${esc(s.key)}"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}</g>`;
    })
    .join("");
  return svg(title, `${grid(frame)}${ticks(labels, x)}${lines}`);
}

/**
 * Stacked bars, one bar per interval, one segment per series in `series` order (hidden series are
 * left out by the caller). Whole counts, so small numbers (1–3) stay readable as block heights.
 */
export function stackedBarChart({ labels, series, title, totalLabel }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  const frame = scale(totals, true, formatCount);
  const { y, left, innerW } = frame;
  const slot = innerW / Math.max(labels.length, 1);
  const width = Math.max(2, Math.min(48, slot * 0.7));
  const x = (i) => left + slot * i + slot / 2;
  const base = labels.map(() => 0);
  const groups = series
    .map((s) => {
      const rects = s.values
        .map((raw, i) => {
          const v = raw || 0;
          const y0 = y(base[i]);
          const y1 = y(base[i] + v);
          base[i] += v;
          return `<rect x="${(x(i) - width / 2).toFixed(1)}" y="${y1.toFixed(1)}" width="${width.toFixed(1)}" height="${(y0 - y1).toFixed(1)}" fill="${s.color}" data-value="${v}"><title>${esc(labels[i])}: ${esc(formatCount(v))} ${esc(s.name)}</title></rect>`;
        })
        .join("");
      return `<g class="series" data-series="${esc(s.key)}">${rects}</g>`;
    })
    .join("");
  const tops = totals
    .map((total, i) => (total ? `<text class="bar-total" x="${x(i).toFixed(1)}" y="${(y(total) - 4).toFixed(1)}" text-anchor="middle" data-value="${total}"><title>${esc(labels[i])}: ${esc(totalLabel(total))}</title>${labels.length <= 31 ? esc(formatCount(total)) : ""}</text>` : ""))
    .join("");
  return svg(title, `${grid(frame)}${ticks(labels, x)}${groups}${tops}`);
}
