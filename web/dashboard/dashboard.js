// The merchant dashboard of customer-hub (SPEC §6, API.md "Dashboard"): plain ES module, no build.
// Charts are small dependency-free SVG (see README: "Why hand-drawn SVG charts").

const KEY_STORAGE = "customer-hub.api-key";
const API_BASE = (document.querySelector("meta[name=customer-hub-api]")?.content || "").replace(/\/$/, "");
const SERVICE_TYPES = [
  ["order_tracked", "Orders tracked", "#3b3bd4"],
  ["return_started", "Returns started", "#d4753b"],
  ["coupon_applied", "Coupons applied", "#17863a"],
  ["help_clicked", "Help clicks", "#a33bd4"],
  ["chat_started", "Chats started", "#1f8fb3"],
];
const TOUCHPOINTS = {
  product_clicked: "Product clicked",
  product_added_to_cart: "Added to cart",
  buy_again_clicked: "Buy again",
  coupon: "Coupon",
};

const $ = (selector) => document.querySelector(selector);

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function formatMoney(money) {
  if (!money) return "—";
  return new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency }).format(Number(money.amount));
}

export function formatCount(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

/** "+40.0%" / "-12.5%" / "—" with the class that colours it (never colour alone: the sign stays). */
export function formatChange(pct) {
  if (pct === null || pct === undefined) return { text: "—", cls: "" };
  const text = `${pct > 0 ? "+" : ""}${pct.toFixed(1)}%`;
  return { text, cls: pct > 0 ? "positive" : pct < 0 ? "negative" : "" };
}

function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" }) : "—";
}

// ------------------------------------------------------------------ SVG charts
const W = 960;
const H = 260;
const PAD = { left: 72, right: 16, top: 12, bottom: 28 };

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= value);
}

/**
 * A line chart. `series`: [{key, name, color, values: [number|null]}] over `labels` (interval starts).
 * Every point is a circle with a <title> and data-value, so the figures are readable without colour.
 */
export function lineChart({ labels, series, format = formatCount, title, integer = format === formatCount }) {
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  let top = niceMax(Math.max(0, ...values));
  if (integer && top % 2) top += 1; // counts: whole numbers on the middle grid line too
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (labels.length <= 1 ? innerW / 2 : (i * innerW) / (labels.length - 1));
  const y = (v) => PAD.top + innerH - (v / top) * innerH;
  const grid = [0, 0.5, 1]
    .map((f) => `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(top * f)}" y2="${y(top * f)}"/>
      <text x="${PAD.left - 6}" y="${y(top * f) + 4}" text-anchor="end">${esc(format(top * f))}</text>`)
    .join("");
  const ticks = [...new Set([0, Math.floor((labels.length - 1) / 2), labels.length - 1])]
    .filter((i) => i >= 0)
    .map((i, n, all) => {
      const anchor = all.length > 1 && n === 0 ? "start" : n === all.length - 1 && n > 0 ? "end" : "middle";
      return `<text x="${x(i)}" y="${H - 8}" text-anchor="${anchor}">${esc(labels[i])}</text>`;
    })
    .join("");
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
        .map((v, i) => (v === null || v === undefined ? "" : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}" data-label="${esc(labels[i])}" data-value="${v}"><title>${esc(labels[i])}: ${esc(format(v))} ${esc(s.name)}${s.notes ? esc(s.notes[i]) : ""}</title></circle>`))
        .join("");
      return `<g class="series" data-series="${esc(s.key)}"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}</g>`;
    })
    .join("");
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${grid}${ticks}${lines}</svg>`;
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  const response = await fetch(API_BASE + path, { headers: { Authorization: `Bearer ${key}`, Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function periodQuery() {
  const params = new URLSearchParams({ period: $("#period").value, compare: $("#compare").value });
  if (params.get("period") === "custom") {
    params.set("start", $("#start").value);
    params.set("end", $("#end").value);
  }
  return params;
}

// ------------------------------------------------------------------ sections
function renderTile(metric, data, isMoney) {
  const tile = document.querySelector(`.tile[data-metric=${metric}]`);
  tile.querySelector(".value").textContent = isMoney ? formatMoney(data.value) : formatCount(data.value);
  if (metric === "total_accounts") return;
  const change = tile.querySelector(".change");
  const compared = $("#compare").value !== "none";
  const { text, cls } = formatChange(data.change_pct);
  change.className = `change ${cls}`;
  const previous = isMoney ? formatMoney(data.previous) : formatCount(data.previous);
  change.textContent = compared ? `${text} vs ${previous}` : "";
  change.title = compared ? "Change vs the comparison period" : "";
}

function renderOverview(overview) {
  const p = overview.period;
  const c = overview.comparison;
  $("#period-caption").textContent =
    `${p.start} – ${p.end} (${p.timezone})` + (c && c.type !== "none" ? ` compared with ${c.start} – ${c.end}` : "");
  renderTile("total_accounts", overview.total_accounts, false);
  renderTile("service_interactions", overview.service_interactions, false);
  renderTile("active_accounts", overview.active_accounts, false);
  renderTile("revenue_generated", overview.revenue_generated, true);
  report.url = overview.report_url;
}

function renderService(data) {
  const labels = data.series.map((point) => point.start);
  const series = SERVICE_TYPES.map(([key, name, color]) => ({ key, name, color, values: data.series.map((point) => point[key] ?? 0) }));
  $("#service-chart").innerHTML = lineChart({ labels, series, title: `Service interactions per ${data.interval}` });
  const compared = data.previous_totals && $("#compare").value !== "none";
  $("#service-totals").innerHTML = SERVICE_TYPES.map(
    ([key, name, color]) => `<tr data-type="${key}"><th scope="row"><span class="swatch" style="background:${color}"></span>${name}</th>
      <td class="total">${formatCount(data.totals[key])}</td><td class="previous">${compared ? formatCount(data.previous_totals[key]) : "—"}</td></tr>`,
  ).join("");
}

function renderAov(data) {
  $("#aov-value").textContent = formatMoney(data.value);
  const { text, cls } = formatChange(data.change_pct);
  const change = $("#aov-change");
  change.className = `change ${cls}`;
  change.textContent = $("#compare").value === "none" ? "" : `${text} vs ${formatMoney(data.previous)}`;
  $("#aov-orders").textContent = `${formatCount(data.orders)} orders`;
  const currency = data.value?.currency || data.series.find((s) => s.aov)?.aov.currency || "USD";
  const labels = data.series.map((point) => point.start);
  const values = data.series.map((point) => (point.aov ? Number(point.aov.amount) : null));
  $("#aov-chart").innerHTML = lineChart({
    labels,
    series: [{ key: "aov", name: "AOV", color: "#3b3bd4", values, notes: data.series.map((p) => ` · ${formatCount(p.orders)} orders`) }],
    format: (v) => formatMoney({ amount: v, currency }),
    title: `Average order value per ${data.interval}`,
  });
}

let generation = 0; // a newer selection wins over a slower, older answer

async function loadDashboard() {
  const mine = ++generation;
  const status = $("#status");
  const query = periodQuery();
  if (query.get("period") === "custom" && (!query.get("start") || !query.get("end"))) {
    status.innerHTML = `<p class="muted">Choose both dates of the custom range.</p>`;
    return;
  }
  status.innerHTML = `<p class="muted">Loading…</p>`;
  document.body.dataset.loading = "true";
  try {
    // One request at a time: `hub dev` serves handlers in one process, where Powertools keeps the
    // current event in a class attribute shared by concurrent invocations.
    const overview = await api(`/v1/dashboard/overview?${query}`);
    const service = await api(`/v1/dashboard/service-interactions?${query}`);
    const aov = await api(`/v1/dashboard/average-order-value?${query}`);
    if (mine !== generation) return;
    if (overview.data_available === false) {
      status.innerHTML = `<p class="muted">Data is not available yet: it is collected once the hub is launched.</p>`;
    } else {
      status.innerHTML = "";
    }
    renderOverview(overview);
    renderService(service);
    renderAov(aov);
    if (!$("#report").hidden) {
      report.cursors = [null];
      await report.load(null);
    }
  } catch (error) {
    if (error.status === 401) return askForKey("That API key was not accepted.");
    status.innerHTML = `<div class="error" role="alert">Could not load the dashboard: ${esc(error.message)}
      <button type="button" id="retry" class="ghost">Try again</button></div>`;
    $("#retry").addEventListener("click", loadDashboard);
  } finally {
    if (mine === generation) document.body.dataset.loading = "false";
  }
}

// ------------------------------------------------------------------ revenue report (paged)
const report = {
  url: null,
  cursors: [null], // the cursor of each page seen so far; the last is the current page
  next: null,
  async load(cursor) {
    const url = new URL(this.url || `/v1/dashboard/revenue-report?${periodQuery()}`, location.origin);
    if (cursor) url.searchParams.set("cursor", cursor);
    else url.searchParams.delete("cursor");
    const data = await api(url.pathname + url.search);
    $("#report-total").textContent = formatMoney(data.total);
    $("#report-lines").innerHTML =
      data.lines
        .map((line) => `<tr><td>${esc(line.order_name || line.order_id)}</td><td>${esc(line.product_title || line.product_id || "")}</td>
          <td>${formatCount(line.quantity)}</td><td>${formatMoney(line.amount)}</td><td>${esc(TOUCHPOINTS[line.touchpoint] || line.touchpoint)}</td>
          <td>${formatTime(line.touchpoint_at)}</td><td>${formatTime(line.ordered_at)}</td></tr>`)
        .join("") || `<tr><td colspan="7" class="muted">No attributed orders in this period.</td></tr>`;
    this.next = data.next_cursor;
    $("#report-next").disabled = !this.next;
    $("#report-prev").disabled = this.cursors.length <= 1;
    $("#report-page").textContent = `Page ${this.cursors.length}`;
  },
  async open() {
    this.cursors = [null];
    $("#report").hidden = false;
    await this.load(null);
    $("#report-title").focus();
  },
  async nextPage() {
    if (!this.next) return;
    this.cursors.push(this.next);
    await this.load(this.next);
  },
  async previousPage() {
    if (this.cursors.length <= 1) return;
    this.cursors.pop();
    await this.load(this.cursors[this.cursors.length - 1]);
  },
};

// ------------------------------------------------------------------ inactive accounts
const inactive = {
  next: null,
  async page(cursor) {
    const params = new URLSearchParams({ days: $("#inactive-days").value || "30" });
    if (cursor) params.set("cursor", cursor);
    return api(`/v1/dashboard/inactive-accounts?${params}`);
  },
  row(account) {
    return `<tr><td>${esc(account.customer_id)}</td><td>${esc(account.email)}</td><td>${formatTime(account.last_opened_at)}</td></tr>`;
  },
  async show(more = false) {
    const data = await this.page(more ? this.next : null);
    const rows = data.accounts.map((a) => this.row(a)).join("");
    const body = $("#inactive-rows");
    if (more) body.insertAdjacentHTML("beforeend", rows);
    else body.innerHTML = rows || `<tr><td colspan="3" class="muted">No inactive accounts.</td></tr>`;
    this.next = data.next_cursor;
    $("#inactive-more").hidden = !this.next;
  },
  async csv() {
    const lines = [["customer_id", "email", "last_opened_at"]];
    let cursor = null;
    do {
      const data = await this.page(cursor);
      data.accounts.forEach((a) => lines.push([a.customer_id, a.email, a.last_opened_at ?? ""]));
      cursor = data.next_cursor;
    } while (cursor);
    const text = lines.map((cells) => cells.map((c) => `"${String(c ?? "").replace(/"/g, '""')}"`).join(",")).join("\r\n") + "\r\n";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    link.download = `inactive-accounts-${$("#inactive-days").value}-days.csv`;
    document.body.append(link);
    link.click();
    link.remove();
  },
};

// ------------------------------------------------------------------ wiring
function askForKey(message = "") {
  if (message) sessionStorage.removeItem(KEY_STORAGE);
  $("#shop-name").textContent = "";
  $("#dashboard").hidden = true;
  $("#forget-key").hidden = true;
  $("#key-form").hidden = false;
  $("#key-error").textContent = message;
  $("#api-key").focus();
}

async function start() {
  let settings;
  try {
    settings = await api("/v1/admin/settings"); // checks the key before showing anything
  } catch (error) {
    return askForKey(error.status === 401 ? "That API key was not accepted." : `Could not sign in: ${error.message}`);
  }
  $("#shop-name").textContent = `${settings.name} · hub ${settings.hub_status.replace("_", " ")}`;
  $("#key-form").hidden = true;
  $("#dashboard").hidden = false;
  $("#forget-key").hidden = false;
  await loadDashboard();
  await inactive.show().catch(() => {});
}

function guard(fn) {
  return (event) => {
    event?.preventDefault?.();
    fn().catch((error) => {
      $("#status").innerHTML = `<div class="error" role="alert">${esc(error.message)}</div>`;
    });
  };
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("#api-key").value.trim());
  $("#api-key").value = "";
  start();
});
$("#forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  askForKey();
});
$("#period").addEventListener("change", () => {
  $("#custom-range").hidden = $("#period").value !== "custom";
  loadDashboard();
});
$("#compare").addEventListener("change", loadDashboard);
$("#start").addEventListener("change", loadDashboard);
$("#end").addEventListener("change", loadDashboard);
$("#period-form").addEventListener("submit", (event) => event.preventDefault());
$("#view-report").addEventListener("click", guard(() => report.open()));
$("#close-report").addEventListener("click", () => {
  $("#report").hidden = true;
  $("#view-report").focus();
});
$("#report-next").addEventListener("click", guard(() => report.nextPage()));
$("#report-prev").addEventListener("click", guard(() => report.previousPage()));
$("#inactive-form").addEventListener("submit", guard(() => inactive.show()));
$("#inactive-more").addEventListener("click", guard(() => inactive.show(true)));
$("#inactive-csv").addEventListener("click", guard(() => inactive.csv()));

if (sessionStorage.getItem(KEY_STORAGE)) start();
else askForKey();
