// The Settings section: hub launch/disable, Smile.io connection and sync, shop settings, the
// Shopify webhook secret and credential rotation — each one call of the public merchant API
// (API.md "Merchant routes"); problem+json field errors are shown next to their field.

import { ApiError, KEY_STORAGE, api } from "./api.js";
import { formatDate, formatRelative, formatTime } from "./format.js";
import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);
const SHOP_FIELDS = ["timezone", "cart_window_hours", "shop_domain", "storefront_origins"];
const SYNC_POLL_MS = 750;
const SYNC_POLL_TRIES = 160; // two minutes: a first sync of a large program takes a while

export const state = { settings: null, sync: null, waiting: false, onChange: () => {} };

// ------------------------------------------------------------------ small helpers
function say(selector, text, kind = "ok") {
  const box = $(selector);
  box.textContent = text;
  box.className = `notice ${text ? kind : ""}`;
}

function fieldError(input, message) {
  const slot = document.getElementById(`${input.id}-error`);
  slot.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function clearErrors(form) {
  form.querySelectorAll("[data-field]").forEach((input) => fieldError(input, ""));
}

/** Shows an API error: next to the fields it names, else in the card's notice line. */
function showError(error, form, notice) {
  if (!(error instanceof ApiError)) return say(notice, t("status.failed", { detail: error.message }), "error");
  const inputs = form ? [...form.querySelectorAll("[data-field]")] : [];
  const byField = error.fieldErrors(inputs.map((input) => input.dataset.field));
  const shown = inputs.filter((input) => byField[input.dataset.field]);
  shown.forEach((input) => fieldError(input, t("field.rejected", { detail: byField[input.dataset.field] })));
  if (shown.length) return shown[0].focus();
  if (error.status === 422 && inputs.length === 1) {
    fieldError(inputs[0], t("field.rejected", { detail: error.message }));
    return inputs[0].focus();
  }
  say(notice, t("status.failed", { detail: error.message }), "error");
}

/** The page's confirmation dialog; resolves true when the merchant confirms. */
export function confirmAction(message) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = message;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// ------------------------------------------------------------------ rendering
export function renderSettings(settings = state.settings) {
  if (!settings) return;
  state.settings = settings;
  const status = settings.hub_status;
  $("#hub-state").textContent = t(`hub.state.${status}`, { date: formatDate(settings.launched_at) });
  $("#hub-state").dataset.status = status;
  const toggle = $("#hub-toggle");
  toggle.textContent = t(status === "live" ? "hub.disable" : "hub.launch");
  toggle.className = status === "live" ? "danger" : "";
  toggle.dataset.target = status === "live" ? "disabled" : "live";

  const connected = settings.smile.connected;
  $("#smile-state").textContent = t(connected ? "smile.connected" : "smile.not_connected");
  $("#smile-state").dataset.connected = String(connected);
  $("#smile-form").hidden = connected;
  $("#smile-sync").hidden = !connected;

  const zones = $("#timezone");
  if (!zones.options.length) {
    const names = new Set(Intl.supportedValuesOf("timeZone"));
    names.add("UTC");
    zones.innerHTML = [...names].sort().map((zone) => `<option>${zone}</option>`).join("");
  }
  if (![...zones.options].some((o) => o.value === settings.timezone)) zones.add(new Option(settings.timezone));
  zones.value = settings.timezone;
  $("#cart-window").value = settings.cart_window_hours;
  $("#shop-domain").value = settings.shop_domain;
  $("#origins").value = settings.storefront_origins.join("\n");
  if (state.sync) renderSync(state.sync);
}

export function renderSync(sync) {
  state.sync = sync;
  const running = sync.status === "running" || state.waiting;
  $("#sync-state").textContent = t(`sync.status.${running ? "running" : sync.status}`);
  $("#sync-state").dataset.status = sync.status;
  $("#sync-progress").hidden = !running;
  $("#sync-last").textContent = sync.last_success_at
    ? t("sync.last_success", { when: formatRelative(sync.last_success_at) })
    : t("sync.never");
  $("#sync-last").title = sync.last_success_at ? formatTime(sync.last_success_at) : "";
  $("#sync-customers").textContent = t("sync.customers", { count: sync.customers_synced });
  $("#sync-customers").dataset.value = sync.customers_synced;
  $("#sync-requests").textContent = t("sync.requests", { count: sync.requests_made });
  $("#sync-error").textContent = sync.status === "failed" && sync.last_error ? t("sync.error", { detail: sync.last_error }) : "";
  $("#sync-now").disabled = running;
}

// ------------------------------------------------------------------ loading
export async function loadSettings() {
  renderSettings(await api("/v1/admin/settings"));
  if (state.settings.smile.connected) await refreshSync();
  return state.settings;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads the sync status; with `before` (the status read before a sync was asked for), keeps
 * reading while a run is going on or has not ended yet (no new success or error), so the
 * progress shows until the run is over. */
async function refreshSync(before = null) {
  state.waiting = Boolean(before);
  $("#smile-sync").setAttribute("aria-busy", String(state.waiting));
  try {
    for (let tries = 0; tries < SYNC_POLL_TRIES; tries += 1) {
      const sync = await api("/v1/admin/smile/sync");
      const ended = !before || sync.last_success_at !== before.last_success_at || sync.last_error !== before.last_error;
      if (sync.status !== "running" && ended) state.waiting = false;
      renderSync(sync);
      if (!state.waiting && sync.status !== "running") return sync;
      await sleep(SYNC_POLL_MS);
    }
    return state.sync;
  } finally {
    state.waiting = false;
    $("#smile-sync").setAttribute("aria-busy", "false");
    if (state.sync) renderSync(state.sync);
  }
}

async function syncStatusNow() {
  return api("/v1/admin/smile/sync").catch(() => ({ last_success_at: null, last_error: null }));
}

// ------------------------------------------------------------------ actions
async function toggleHub() {
  const target = $("#hub-toggle").dataset.target;
  if (!(await confirmAction(t(target === "live" ? "hub.confirm.launch" : "hub.confirm.disable")))) return;
  try {
    renderSettings(await api("/v1/admin/settings", { method: "PATCH", body: { hub_status: target } }));
    say("#hub-message", t(target === "live" ? "hub.launched" : "hub.disabled"));
    state.onChange();
  } catch (error) {
    showError(error, null, "#hub-message");
  }
}

async function connectSmile(event) {
  event.preventDefault();
  const form = $("#smile-form");
  const input = $("#smile-key");
  clearErrors(form);
  if (!input.value.trim()) return fieldError(input, t("field.required")), input.focus();
  say("#smile-message", t("smile.connecting"), "muted");
  try {
    const before = await syncStatusNow();
    await api("/v1/admin/smile/connection", { method: "PUT", body: { api_key: input.value.trim() } });
    input.value = "";
    say("#smile-message", t("smile.connected_now"));
    renderSettings(await api("/v1/admin/settings"));
    await refreshSync(before);
    renderSettings(await api("/v1/admin/settings"));
    state.onChange();
  } catch (error) {
    say("#smile-message", "");
    showError(error, form, "#smile-message");
  }
}

async function disconnectSmile() {
  if (!(await confirmAction(t("smile.confirm.disconnect")))) return;
  try {
    await api("/v1/admin/smile/connection", { method: "DELETE" });
    state.sync = null;
    renderSettings(await api("/v1/admin/settings"));
    say("#smile-message", t("smile.disconnected"));
    $("#smile-key").focus();
  } catch (error) {
    showError(error, null, "#smile-message");
  }
}

async function syncNow() {
  try {
    $("#sync-now").disabled = true;
    const before = await syncStatusNow();
    await api("/v1/admin/smile/sync", { method: "POST" });
    say("#smile-message", t("sync.requested"), "muted");
    await refreshSync(before);
    renderSettings(await api("/v1/admin/settings"));
    say("#smile-message", "");
  } catch (error) {
    showError(error, null, "#smile-message");
  } finally {
    $("#sync-now").disabled = state.sync?.status === "running";
  }
}

function shopPatch() {
  const current = state.settings;
  const wanted = {
    timezone: $("#timezone").value,
    cart_window_hours: $("#cart-window").value === "" ? null : Number($("#cart-window").value),
    shop_domain: $("#shop-domain").value.trim(),
    storefront_origins: $("#origins")
      .value.split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
  };
  return Object.fromEntries(
    SHOP_FIELDS.filter((field) => JSON.stringify(wanted[field]) !== JSON.stringify(current[field])).map((field) => [field, wanted[field]]),
  );
}

async function saveShop(event) {
  event.preventDefault();
  const form = $("#shop-form");
  clearErrors(form);
  say("#shop-message", "");
  const patch = shopPatch();
  if (patch.cart_window_hours === null) return fieldError($("#cart-window"), t("field.required")), $("#cart-window").focus();
  if (!Object.keys(patch).length) return say("#shop-message", t("shop.unchanged"), "muted");
  try {
    renderSettings(await api("/v1/admin/settings", { method: "PATCH", body: patch }));
    say("#shop-message", t("shop.saved"));
    if ("timezone" in patch) state.onChange();
  } catch (error) {
    showError(error, form, "#shop-message");
  }
}

async function saveWebhookSecret(event) {
  event.preventDefault();
  const form = $("#webhook-form");
  const input = $("#webhook-secret");
  clearErrors(form);
  say("#webhook-message", "");
  if (!input.value) return fieldError(input, t("field.required")), input.focus();
  try {
    await api("/v1/admin/shopify/webhook-secret", { method: "PUT", body: { secret: input.value } });
    input.value = "";
    say("#webhook-message", t("webhook.saved"));
  } catch (error) {
    showError(error, form, "#webhook-message");
  }
}

async function rotate(name) {
  if (!(await confirmAction(t(`credentials.confirm.${name}`)))) return;
  try {
    const rotated = await api(`/v1/admin/credentials/${name}/rotate`, { method: "POST" });
    if (name === "api_key") sessionStorage.setItem(KEY_STORAGE, rotated.api_key);
    $("#rotated").hidden = false;
    $("#rotated-label").textContent = t(`credentials.new.${name}`);
    $("#rotated-value").value = rotated[name];
    $("#rotated-value").dataset.credential = name;
    $("#rotated-note").textContent =
      t("credentials.once", { time: formatTime(rotated.previous_valid_until) }) +
      (name === "api_key" ? ` ${t("credentials.kept")}` : "");
    say("#credentials-message", "");
    $("#rotated-value").focus();
    $("#rotated-value").select();
  } catch (error) {
    showError(error, null, "#credentials-message");
  }
}

async function copyRotated() {
  const input = $("#rotated-value");
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand?.("copy"); // clipboard permission refused: the selection is copied instead
  }
  say("#credentials-message", t("credentials.copied"));
}

export function wireSettings(onChange) {
  state.onChange = onChange;
  $("#hub-toggle").addEventListener("click", toggleHub);
  $("#smile-form").addEventListener("submit", connectSmile);
  $("#smile-disconnect").addEventListener("click", disconnectSmile);
  $("#sync-now").addEventListener("click", syncNow);
  $("#shop-form").addEventListener("submit", saveShop);
  $("#webhook-form").addEventListener("submit", saveWebhookSecret);
  $("#rotate-api-key").addEventListener("click", () => rotate("api_key"));
  $("#rotate-token-secret").addEventListener("click", () => rotate("customer_token_secret"));
  $("#rotated-copy").addEventListener("click", copyRotated);
}
