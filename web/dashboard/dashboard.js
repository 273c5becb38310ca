// The merchant dashboard of customer-hub (SPEC §6, API.md "Dashboard" and "Merchant routes"):
// plain ES modules, no build. Texts in i18n.js, Intl formatting in format.js, SVG charts in
// charts.js, the Settings section in settings.js.

import { KEY_STORAGE, api } from "./api.js";
import { esc, lineChart, stackedBarChart } from "./charts.js";
import { formatBucket, formatChange, formatCount, formatDate, formatMoney, formatRange, formatTime } from "./format.js";
import { chooseLanguage, formattingLocale, i18n, rememberLanguage, t, translatePage } from "./i18n.js";
import { loadSettings, renderSettings, state as settingsState, wireSettings } from "./settings.js";

const SERVICE_TYPES = [
  ["order_tracked", "#3b3bd4"],
  ["return_started", "#b35a1f"],
  ["coupon_applied", "#17863a"],
  ["help_clicked", "#a33bd4"],
  ["chat_started", "#1f7f9f"],
];
const hiddenTypes = new Set(); // service types switched off in the chart legend

const $ = (selector) => document.querySelector(selector);

function periodQuery() {
  const params = new URLSearchParams({ period: $("#period").value, compare: $("#compare").value });
  if (params.get("period") === "custom") {
    params.set("start", $("#start").value);
    params.set("end", $("#end").value);
  }
  if ($("#interval").value) params.set("interval", $("#interval").value);
  return params;
}

// ------------------------------------------------------------------ sections
const shown = { overview: null, service: null, aov: null }; // the last answers, re-rendered on a language change

/** The comparison line of a figure: "+40.0% vs 40", or "No data for 12 Oct – 10 Nov" when the
 * comparison period has nothing to compare with (previous value absent or zero). */
function changeText(data, comparison, format) {
  if (!comparison || comparison.type === "none") return { text: "", cls: "", title: "" };
  const empty = data.change_pct === null && (data.previous === null || Number(data.previous?.amount ?? data.previous) === 0);
  if (empty) {
    return { text: t("change.no_data", { range: formatRange(comparison.start, comparison.end) }), cls: "empty", title: "" };
  }
  const { text, cls } = formatChange(data.change_pct);
  return { text: t("change.vs", { change: text, previous: format(data.previous) }), cls, title: t("change.title") };
}

function renderTile(metric, data, comparison, format) {
  const tile = document.querySelector(`.tile[data-metric=${metric}]`);
  tile.querySelector(".value").textContent = format(data.value);
  const change = tile.querySelector(".change");
  if (!change) return;
  const { text, cls, title } = changeText(data, comparison, format);
  change.className = `change ${cls}`.trim();
  change.textContent = text;
  change.title = title;
}

function renderOverview(overview) {
  const p = overview.period;
  const c = overview.comparison;
  const range = formatRange(p.start, p.end);
  const caption = $("#period-caption");
  caption.textContent =
    c && c.type !== "none"
      ? t("caption.compared", { range, timezone: p.timezone, comparison: formatRange(c.start, c.end) })
      : t("caption.period", { range, timezone: p.timezone });
  Object.assign(caption.dataset, { start: p.start, end: p.end, comparisonStart: c?.start ?? "", comparisonEnd: c?.end ?? "" });
  renderTile("total_accounts", overview.total_accounts, null, formatCount);
  renderTile("active_accounts", overview.active_accounts, c, formatCount);
  renderTile("service_interactions", overview.service_interactions, c, formatCount);
  renderTile("revenue_generated", overview.revenue_generated, c, formatMoney);
  const launched = settingsState.settings?.launched_at;
  $("#total-note").textContent = launched
    ? t("tile.total_accounts.since", { date: formatDate(launched) })
    : t("tile.total_accounts.unlaunched");
  report.url = overview.report_url;
}

function renderLegend() {
  $("#service-legend").innerHTML = SERVICE_TYPES.map(
    ([key, color]) => `<button type="button" class="legend-toggle" data-type="${key}" aria-pressed="${!hiddenTypes.has(key)}">
      <span class="swatch" style="background:${color}"></span>${esc(t(`type.${key}`))}</button>`,
  ).join("");
}

function renderService(data) {
  const labels = data.series.map((point) => formatBucket(point.start, data.interval));
  const series = SERVICE_TYPES.filter(([key]) => !hiddenTypes.has(key)).map(([key, color]) => ({
    key,
    color,
    name: t(`type.${key}`),
    values: data.series.map((point) => point[key] ?? 0),
  }));
  renderLegend();
  $("#service-chart").innerHTML = stackedBarChart({
    labels,
    series,
    title: `${t("service.title")} ${t(`per.${data.interval}`)}`,
    totalLabel: (count) => t("chart.total", { count }),
  });
  $("#service-chart").dataset.interval = data.interval;
  const compared = data.previous_totals && $("#compare").value !== "none";
  $("#service-totals").innerHTML = SERVICE_TYPES.map(
    ([key, color]) => `<tr data-type="${key}"><th scope="row"><span class="swatch" style="background:${color}"></span>${esc(t(`type.${key}`))}</th>
      <td class="total">${formatCount(data.totals[key])}</td><td class="previous">${compared ? formatCount(data.previous_totals[key]) : "—"}</td></tr>`,
  ).join("");
}

function renderAov(data) {
  $("#aov-value").textContent = formatMoney(data.value);
  const { text, cls, title } = changeText(data, data.comparison, formatMoney);
  const change = $("#aov-change");
  change.className = `change ${cls}`.trim();
  change.textContent = text;
  change.title = title;
  $("#aov-orders").textContent = t("aov.orders", { count: data.orders });
  const currency = data.value?.currency || data.series.find((s) => s.aov)?.aov.currency || "USD";
  const labels = data.series.map((point) => formatBucket(point.start, data.interval || $("#service-chart").dataset.interval));
  const values = data.series.map((point) => (point.aov ? Number(point.aov.amount) : null));
  $("#aov-chart").innerHTML = lineChart({
    labels,
    series: [{ key: "aov", name: t("aov.short"), color: "#3b3bd4", values, notes: data.series.map((p) => ` · ${t("aov.orders", { count: p.orders })}`) }],
    format: (v) => formatMoney({ amount: v, currency }),
    title: `${t("aov.title")} ${t(`per.${$("#service-chart").dataset.interval || "day"}`)}`,
  });
}

function renderAll() {
  if (!shown.overview) return;
  renderOverview(shown.overview);
  renderService(shown.service);
  renderAov(shown.aov);
}

function showStatus(html) {
  $("#status").innerHTML = html;
}

function showLoadError(error) {
  showStatus(`<div class="error" role="alert">${esc(t("status.load_failed", { detail: error.message }))}
    <button type="button" id="retry" class="ghost">${esc(t("status.retry"))}</button></div>`);
  $("#retry").addEventListener("click", loadDashboard);
}

let generation = 0; // a newer selection wins over a slower, older answer

async function loadDashboard() {
  const mine = ++generation;
  const query = periodQuery();
  if (query.get("period") === "custom" && (!query.get("start") || !query.get("end"))) {
    showStatus(`<p class="muted">${esc(t("status.choose_dates"))}</p>`);
    return;
  }
  showStatus(`<p class="muted loading">${esc(t("status.loading"))}</p>`);
  document.body.dataset.loading = "true";
  $("#dashboard").setAttribute("aria-busy", "true");
  try {
    // One request at a time: `hub dev` serves handlers in one process, where Powertools keeps the
    // current event in a class attribute shared by concurrent invocations.
    const overview = await api(`/v1/dashboard/overview?${query}`);
    const service = await api(`/v1/dashboard/service-interactions?${query}`);
    const aov = await api(`/v1/dashboard/average-order-value?${query}`);
    if (mine !== generation) return;
    Object.assign(shown, { overview, service, aov });
    if (overview.data_available === false) {
      showStatus(`<p class="notice muted">${esc(t("status.not_available"))} <a href="#settings">${esc(t("status.launch_link"))}</a></p>`);
    } else {
      showStatus("");
    }
    renderAll();
    if (!$("#report").hidden) {
      report.cursors = [null];
      await report.load(null);
    }
  } catch (error) {
    if (mine !== generation) return;
    if (error.status === 401) return askForKey(t("signin.rejected"));
    showLoadError(error);
  } finally {
    if (mine === generation) {
      document.body.dataset.loading = "false";
      $("#dashboard").removeAttribute("aria-busy");
    }
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
        .map((line) => `<tr><td translate="no">${esc(line.order_name || line.order_id)}</td><td translate="no">${esc(line.product_title || line.product_id || "")}</td>
          <td>${formatCount(line.quantity)}</td><td>${formatMoney(line.amount)}</td><td>${esc(t(`touchpoint.${line.touchpoint}`))}</td>
          <td>${formatTime(line.touchpoint_at)}</td><td>${formatTime(line.ordered_at)}</td></tr>`)
        .join("") || `<tr><td colspan="7" class="muted">${esc(t("report.empty"))}</td></tr>`;
    this.next = data.next_cursor;
    $("#report-next").disabled = !this.next;
    $("#report-prev").disabled = this.cursors.length <= 1;
    $("#report-page").textContent = t("report.page", { n: this.cursors.length });
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
    return `<tr><td translate="no">${esc(account.customer_id)}</td><td translate="no">${esc(account.email)}</td><td>${formatTime(account.last_opened_at)}</td></tr>`;
  },
  async show(more = false) {
    const data = await this.page(more ? this.next : null);
    const rows = data.accounts.map((a) => this.row(a)).join("");
    const body = $("#inactive-rows");
    if (more) body.insertAdjacentHTML("beforeend", rows);
    else body.innerHTML = rows || `<tr><td colspan="3" class="muted">${esc(t("inactive.empty"))}</td></tr>`;
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

function renderShopName() {
  const settings = settingsState.settings;
  if (!settings) return;
  $("#shop-name").textContent = t("shop.status", { name: settings.name, status: t(`hub.status.${settings.hub_status}`) });
  $("#shop-name").dataset.status = settings.hub_status;
}

async function start() {
  try {
    await loadSettings(); // checks the key before showing anything
  } catch (error) {
    return askForKey(error.status === 401 ? t("signin.rejected") : t("signin.failed", { detail: error.message }));
  }
  renderShopName();
  $("#key-form").hidden = true;
  $("#dashboard").hidden = false;
  $("#forget-key").hidden = false;
  await loadDashboard();
  await inactive.show().catch(() => {});
}

function guard(fn) {
  return (event) => {
    event?.preventDefault?.();
    return fn().catch((error) => showStatus(`<div class="error" role="alert">${esc(t("status.failed", { detail: error.message }))}</div>`));
  };
}

function setLanguage(language) {
  i18n.language = language;
  i18n.locale = formattingLocale(language);
  $("#language").value = language;
  translatePage();
  renderShopName();
  renderSettings();
  renderAll();
}

$("#language").addEventListener("change", async () => {
  rememberLanguage($("#language").value);
  setLanguage($("#language").value);
  if ($("#dashboard").hidden) return;
  await loadDashboard(); // the status line (loading, errors) and the open report in the new language
  await guard(() => inactive.show())();
});
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
$("#interval").addEventListener("change", loadDashboard);
$("#start").addEventListener("change", loadDashboard);
$("#end").addEventListener("change", loadDashboard);
$("#period-form").addEventListener("submit", (event) => event.preventDefault());
$("#service-legend").addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-type]");
  if (!toggle || !shown.service) return;
  const type = toggle.dataset.type;
  if (hiddenTypes.has(type)) hiddenTypes.delete(type);
  else hiddenTypes.add(type);
  renderService(shown.service);
  $(`#service-legend [data-type=${type}]`).focus();
});
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
wireSettings(() => {
  renderShopName();
  loadDashboard();
});

setLanguage(chooseLanguage());
if (sessionStorage.getItem(KEY_STORAGE)) start();
else askForKey();
