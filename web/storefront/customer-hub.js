// <customer-hub>: the storefront loyalty drawer of customer-hub (SPEC §2–5, API.md).
// One standard ES module, no framework, no build step. A Shopify theme drops it in with the
// snippet of web/shopify/ (docs/install-shopify.md), which renders:
//   <script type="module" src=".../customer-hub.js"></script>
//   <customer-hub api-base="https://hub.example.com" merchant-id="m_…" login-url="/account/login"
//                 customer-id="…" customer-email="…" issued-at="…" signature="…"></customer-hub>
// The four signed attributes (API.md §Identity, Liquid-signed session) are exchanged for a
// customer token on first use and again before it expires; a `customer-token` attribute (a JWT
// minted by a server of the shop's own) is used as given instead.
// The hub shows only while the merchant's hub is live (GET /loyalty `hub_status`). Besides its
// floating launcher (`launcher="none"` turns it off), any element of the page with
// `data-customer-hub-open` opens the drawer (`="rewards"` / `="coupons"`: that page).
// It coupons into the cart by requesting the coupon's `apply_url` path on the shop's own origin
// (Shopify's /discount/<code> sets the cart discount), and emits `customer-hub:coupon-applied`.

const STYLE = `
:host { --hub-accent: #3b3bd4; --hub-ink: #1c1c28; --hub-muted: #5b5b6e; --hub-bg: #fff;
  --hub-line: #e3e3ea; --hub-good: #17663a; --hub-bad: #b3261e;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--hub-ink); }
* { box-sizing: border-box; }
button, input { font: inherit; }
button { cursor: pointer; border-radius: 8px; border: 1px solid var(--hub-accent); padding: .5em .9em;
  background: var(--hub-accent); color: #fff; min-height: 44px; }
button.link { background: none; color: var(--hub-accent); border-color: transparent; padding: .25em .4em;
  text-decoration: underline; }
button.ghost { background: #fff; color: var(--hub-accent); }
button:disabled { opacity: .45; cursor: not-allowed; }
:focus-visible { outline: 3px solid #ffb300; outline-offset: 2px; }
.launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; border-radius: 999px;
  box-shadow: 0 4px 16px #0003; }
.scrim { position: fixed; inset: 0; background: #0006; z-index: 2147483001; }
.drawer { position: fixed; top: 0; right: 0; bottom: 0; width: min(420px, 100vw); z-index: 2147483002;
  background: var(--hub-bg); box-shadow: -4px 0 24px #0003; display: flex; flex-direction: column; }
.drawer header { display: flex; align-items: center; gap: .5em; padding: 12px 16px;
  border-bottom: 1px solid var(--hub-line); }
.drawer header h2 { flex: 1; margin: 0; font-size: 1.15em; }
.body { overflow-y: auto; padding: 16px; flex: 1; }
.card { border: 1px solid var(--hub-line); border-radius: 12px; padding: 14px; margin-bottom: 14px; }
h3 { font-size: 1em; margin: 0 0 .5em; }
.muted { color: var(--hub-muted); font-size: .9em; }
.row { display: flex; align-items: center; gap: .6em; flex-wrap: wrap; }
.grow { flex: 1; min-width: 0; }
.tier { display: inline-flex; align-items: center; gap: .35em; border-radius: 999px; padding: .15em .7em;
  background: #f1f0ff; font-weight: 600; }
.tier img { width: 20px; height: 20px; }
.balance { font-size: 1.6em; font-weight: 700; margin: .2em 0; }
.bar { height: 10px; border-radius: 999px; background: var(--hub-line); overflow: hidden; margin: .5em 0; }
.bar > span { display: block; height: 100%; background: var(--hub-accent); }
ul { list-style: none; margin: 0; padding: 0; }
li.item { border-top: 1px solid var(--hub-line); padding: 10px 0; }
li.item:first-child { border-top: 0; }
.code { font-family: ui-monospace, monospace; font-weight: 700; letter-spacing: .05em; }
.notice { border-radius: 8px; padding: 10px 12px; margin-bottom: 12px; }
.notice.ok { background: #e7f6ec; color: var(--hub-good); }
.notice.err { background: #fdecea; color: var(--hub-bad); }
.error { color: var(--hub-bad); font-size: .9em; }
.referral input { flex: 1; min-width: 0; padding: .45em; border: 1px solid var(--hub-line); border-radius: 8px; }
input[type=range] { width: 100%; }
input[type=number] { width: 7em; padding: .4em; border: 1px solid var(--hub-line); border-radius: 8px; }
details summary { cursor: pointer; font-weight: 600; min-height: 32px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const PAGE_TITLES = { home: "For you", rewards: "Rewards", coupons: "Coupons" };
const SIGNED_ATTRIBUTES = ["customer-id", "customer-email", "issued-at", "signature"];
const SESSION_REFRESH_MS = 5 * 60 * 1000; // exchange again when the token has less left than this
const OPEN_TRIGGER = "[data-customer-hub-open]";

/** The lifetime of a JWT (exp - iat, in ms), read without verifying it (the API does). */
function tokenLifetimeMs(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    return Math.max(0, (claims.exp - claims.iat) * 1000);
  } catch {
    return 0;
  }
}

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pointsText(n, label) {
  const names = label || { one: "Point", other: "Points" };
  return `${Number(n).toLocaleString("en-US")} ${n === 1 ? names.one : names.other}`;
}

function money(amount, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${Number(amount).toFixed(2)} ${currency}`;
  }
}

/** The spendable amounts of a variable reward: multiples of step from min up to min(max, balance). */
export function variableRange(variable, balance) {
  const cap = Math.min(variable.max ?? balance, balance);
  if (cap < variable.min) return null;
  const max = variable.min + Math.floor((cap - variable.min) / variable.step) * variable.step;
  return { min: variable.min, max, step: variable.step };
}

export function validSpend(range, value) {
  return Number.isInteger(value) && value >= range.min && value <= range.max && (value - range.min) % range.step === 0;
}

// Unfinished redemptions survive a reload: their Idempotency-Key is kept in sessionStorage per
// merchant, shopper, reward and body until a final answer, so a retry never buys twice.
const REDEEM_PREFIX = "customer-hub:redeem:";
const PENDING_COUPON_POLL_MS = 3000;
const PENDING_COUPON_POLLS = 40;

function shopperOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return String(JSON.parse(atob(part)).sub || "");
  } catch {
    return "";
  }
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage blocked: keys live for this page only
  }
}

class HubError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export class CustomerHub extends HTMLElement {
  static observedAttributes = ["api-base", "merchant-id", "customer-token", "login-url", "launcher", ...SIGNED_ATTRIBUTES];

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.state = { open: false, page: "home", status: "idle", loyalty: null, rewards: null, coupons: null };
    this.notice = null;
    this.pending = new Map(); // points_product_id -> Idempotency-Key of a redemption to retry
    this.resuming = false;
    this.watching = new Set(); // ids of pending coupons being watched until issued
    this.hubStatus = null; // the merchant's hub_status once known: nothing shows unless "live"
    this.session = null; // {token, refreshAt} from POST /session (signed attributes)
    this.sessionRequest = null;
    this.generation = 0; // bumps when the shopper or the shop changes: late answers are dropped
    this.opener = null;
    this.probeQueued = false;
    this.onTrigger = (e) => this.#onTrigger(e);
    this.shadowRoot.addEventListener("click", (e) => this.#onClick(e));
    this.shadowRoot.addEventListener("input", (e) => this.#onInput(e));
    this.shadowRoot.addEventListener("keydown", (e) => this.#onKeydown(e));
  }

  connectedCallback() {
    document.addEventListener("click", this.onTrigger);
    this.#render();
    this.#scheduleProbe();
  }

  disconnectedCallback() {
    document.removeEventListener("click", this.onTrigger);
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue || !this.isConnected) return;
    if (name === "launcher" || name === "login-url") return this.#render();
    // A new shopper (or API): forget what was loaded for the previous one.
    Object.assign(this.state, { page: "home", status: "idle", loyalty: null, rewards: null, coupons: null });
    this.notice = null;
    this.pending.clear();
    this.session = null;
    this.sessionRequest = null;
    this.generation += 1;
    if (name === "api-base" || name === "merchant-id") this.hubStatus = null;
    if (this.state.open) this.#load();
    else this.#render();
    this.#scheduleProbe();
  }

  get token() {
    return (this.getAttribute("customer-token") || "").trim();
  }

  /** The theme-signed customer (API.md §Identity), when all four attributes are there. */
  get signedCustomer() {
    const [id, email, issuedAt, signature] = SIGNED_ATTRIBUTES.map((a) => (this.getAttribute(a) || "").trim());
    if (!id || !email || !issuedAt || !signature) return null;
    return { customer_id: id, email, issued_at: Number(issuedAt), signature };
  }

  /** Whether a shopper is identified (a customer token, or a signed customer to exchange). */
  get identified() {
    return Boolean(this.token || this.signedCustomer);
  }

  /** The Shopify customer id of the shopper: the token's `sub`, else the signed customer's id. */
  get shopperId() {
    return this.token ? shopperOf(this.token) : this.signedCustomer?.customer_id || "";
  }

  get live() {
    return this.hubStatus === "live";
  }

  // ------------------------------------------------------------------ identity
  /** The customer token to send: the given one, else one exchanged for the signed customer. */
  async #bearer() {
    if (this.token) return this.token;
    const signed = this.signedCustomer;
    if (!signed) return null;
    if (this.session && Date.now() < this.session.refreshAt) return this.session.token;
    if (!this.sessionRequest) {
      const generation = this.generation;
      this.sessionRequest = this.#request("POST", "/session", { body: signed })
        .then((answer) => {
          const lifetime = tokenLifetimeMs(answer.customer_token);
          const session = { token: answer.customer_token, refreshAt: Date.now() + lifetime - SESSION_REFRESH_MS };
          if (generation === this.generation) this.session = session;
          return session.token;
        })
        .finally(() => {
          if (generation === this.generation) this.sessionRequest = null;
        });
    }
    return this.sessionRequest;
  }

  /** One probe for attributes set one after another in the same task (a theme's script). */
  #scheduleProbe() {
    if (this.probeQueued) return;
    this.probeQueued = true;
    queueMicrotask(() => {
      this.probeQueued = false;
      this.#probe();
    });
  }

  /**
   * Learn the hub status (and show the launcher only when it is live). Asked anonymously: a page
   * view costs one light request, and the shopper's token is fetched when the drawer is used.
   */
  async #probe() {
    if (!this.getAttribute("merchant-id")) return;
    const generation = this.generation;
    const status = (await this.#request("GET", "/loyalty").catch(() => ({}))).hub_status;
    if (generation !== this.generation) return;
    this.hubStatus = status || null;
    if (!this.live && this.state.open) this.state.open = false;
    this.#render();
    if (this.live && this.hasAttribute("open") && !this.state.open) this.open();
    if (this.live) this.#resumeRedemptions();
  }

  // ------------------------------------------------------------------ API
  async #api(method, path, options = {}) {
    const token = await this.#bearer();
    return this.#request(method, path, { ...options, token });
  }

  async #request(method, path, { body, headers, token } = {}) {
    const base = (this.getAttribute("api-base") || "").replace(/\/$/, "");
    const merchant = encodeURIComponent(this.getAttribute("merchant-id") || "");
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${base}/v1/shops/${merchant}/hub${path}`, init);
    } catch {
      throw new HubError(0, { detail: "You seem to be offline." });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new HubError(response.status, data);
      error.retryAfter = response.headers.get("Retry-After");
      throw error;
    }
    return data;
  }

  /**
   * Report hub interactions (SPEC §5); never gets in the shopper's way. Redeeming and applying a
   * coupon are recorded by the API itself (coupon_applied), so they are not reported twice here.
   */
  track(type, extra = {}) {
    if (!this.identified) return;
    const event = { id: crypto.randomUUID(), type, occurred_at: new Date().toISOString(), ...extra };
    this.#api("POST", "/events", { body: { events: [event] } }).catch(() => {});
  }

  // ------------------------------------------------------------------ drawer
  /** Open the drawer on `page` (home, rewards or coupons); nothing while the hub is not live. */
  open(page = "home") {
    if (!this.live) return;
    // Rewards and coupons are personal: a guest is shown the "For you" tab and its log-in prompt.
    const wanted = PAGE_TITLES[page] && this.identified ? page : "home";
    if (this.state.open) {
      if (wanted !== this.state.page) this.#go(wanted);
      return;
    }
    this.state.open = true;
    this.state.page = wanted;
    // Reported once the card is loaded: the shopper's view comes first, one request at a time.
    this.#load().finally(() => this.track("hub_opened"));
    this.#focus("#hub-close");
  }

  close() {
    this.state.open = false;
    this.#render();
    const opener = this.opener;
    this.opener = null;
    (opener?.isConnected ? opener : this.shadowRoot.querySelector(".launcher"))?.focus();
  }

  /** A click on the theme's own element marked `data-customer-hub-open` (e.g. the account icon). */
  #onTrigger(event) {
    const trigger = event.target.closest?.(OPEN_TRIGGER);
    if (!trigger || !this.live) return; // not live: the theme's link works as it always did
    event.preventDefault();
    this.opener = trigger;
    this.open(trigger.getAttribute("data-customer-hub-open") || "home");
  }

  async #load() {
    const page = this.state.page;
    this.state.status = "loading";
    this.#render();
    try {
      if (page === "home") this.state.loyalty = await this.#api("GET", "/loyalty");
      if (page === "rewards") this.state.rewards = await this.#api("GET", "/rewards");
      if (page === "coupons") this.state.coupons = await this.#api("GET", "/coupons");
      this.state.status = "ready";
    } catch (error) {
      this.state.status = "error";
      this.state.error = error;
    }
    if (this.state.page === page) this.#render();
  }

  #go(page) {
    this.state.page = page;
    this.notice = null;
    this.#load().then(() => this.#focus("h2"));
  }

  #focus(selector) {
    requestAnimationFrame(() => this.shadowRoot.querySelector(selector)?.focus());
  }

  // ------------------------------------------------------------------ actions
  #redeem(button) {
    const id = Number(button.dataset.id);
    const reward = this.state.rewards.redeemable.find((r) => r.points_product_id === id);
    const body = {};
    if (reward.exchange_type === "variable") {
      const input = this.shadowRoot.querySelector(`#spend-${id}`);
      const range = variableRange(reward.variable, this.state.rewards.points_balance);
      const value = Number(input.value);
      if (!range || !validSpend(range, value)) return this.#showSpendError(id, range);
      body.points_to_spend = value;
    }
    return this.#submitRedemption(reward, body, button);
  }

  /** The sessionStorage name of a redemption: merchant, shopper, reward and body. */
  #redeemSlot(id, body) {
    const merchant = this.getAttribute("merchant-id") || "";
    return `${REDEEM_PREFIX}${merchant}:${this.shopperId}:${id}:${JSON.stringify(body)}`;
  }

  #redeemKey(reward, body) {
    const keyFor = `${reward.points_product_id}:${JSON.stringify(body)}`;
    const slot = this.#redeemSlot(reward.points_product_id, body);
    let key = this.pending.get(keyFor);
    if (!key) {
      try {
        key = JSON.parse(storage()?.getItem(slot) || "null")?.key;
      } catch {
        key = null;
      }
    }
    key = key || crypto.randomUUID();
    this.pending.set(keyFor, key);
    const saved = { key, id: reward.points_product_id, name: reward.name, body };
    storage()?.setItem(slot, JSON.stringify(saved));
    return { key, keyFor, slot };
  }

  #forgetRedemption(keyFor, slot) {
    this.pending.delete(keyFor);
    storage()?.removeItem(slot);
  }

  /** After a reload: finish every unfinished redemption of this shopper with its own key. */
  async #resumeRedemptions() {
    const store = storage();
    if (!store || !this.identified || this.resuming) return;
    const prefix = `${REDEEM_PREFIX}${this.getAttribute("merchant-id") || ""}:${this.shopperId}:`;
    const saved = [];
    for (let i = 0; i < store.length; i++) {
      const name = store.key(i);
      if (!name?.startsWith(prefix)) continue;
      try {
        saved.push(JSON.parse(store.getItem(name)));
      } catch {
        store.removeItem(name);
      }
    }
    if (!saved.length) return;
    this.resuming = true;
    try {
      for (const item of saved) {
        await this.#submitRedemption({ points_product_id: item.id, name: item.name }, item.body, null);
      }
    } finally {
      this.resuming = false;
    }
  }

  async #submitRedemption(reward, body, button) {
    const id = reward.points_product_id;
    // One key per intended redemption, kept across reloads: a retry reuses it, so Smile spends once.
    const { key, keyFor, slot } = this.#redeemKey(reward, body);
    if (button) this.#busy(button, "Redeeming…");
    try {
      const result = await this.#api("POST", `/rewards/${id}/redeem`, {
        body,
        headers: { "Idempotency-Key": key },
      });
      this.#forgetRedemption(keyFor, slot);
      const label = this.#label();
      const applied = result.coupon.code ? await this.#applyToCart(result.coupon, result.apply_url) : false;
      if (!result.coupon.code) this.#watchPendingCoupon(result.coupon);
      this.notice = {
        kind: "ok",
        text: applied
          ? `${reward.name}: code ${result.coupon.code} is applied to your cart. Balance: ${pointsText(result.points_balance, label)}.`
          : `${reward.name} redeemed: your coupon is on its way and will be applied to your cart once issued. Balance: ${pointsText(result.points_balance, label)}.`,
      };
      if (this.state.rewards) {
        this.state.rewards = await this.#api("GET", "/rewards").catch(() => ({
          ...this.state.rewards,
          points_balance: result.points_balance,
        }));
      }
      this.state.loyalty = null; // the card reloads with the new balance
      if (this.state.open && this.state.page === "home") await this.#load();
    } catch (error) {
      const slug = (error.problem?.type || "").split("/").pop();
      if (slug === "redemption-unconfirmed" || slug === "idempotency-key-in-use") {
        // Smile's answer was lost (or this key is still being answered): the points stay held;
        // ask again with the same key, never a new one.
        this.notice = { kind: "ok", text: `Confirming your redemption of ${reward.name}…`, confirming: true };
        const wait = Math.max(1, Number(error.retryAfter) || 3) * 1000;
        setTimeout(() => this.#submitRedemption(reward, body, null), wait);
      } else {
        this.notice = { kind: "err", text: this.#explain(error), retry: error.retryable ? { reward, body } : null };
        if (!error.retryable) this.#forgetRedemption(keyFor, slot);
      }
    }
    this.#render();
    this.#focus(".notice");
  }

  /** A coupon Smile is still issuing: once it has a code, apply it (the API records
   * coupon_applied with the code) and follow its apply_url into the cart. */
  async #watchPendingCoupon(coupon) {
    if (this.watching.has(coupon.id)) return;
    this.watching.add(coupon.id);
    try {
      for (let poll = 0; poll < PENDING_COUPON_POLLS; poll++) {
        await new Promise((done) => setTimeout(done, PENDING_COUPON_POLL_MS));
        const page = await this.#api("GET", "/coupons").catch(() => null);
        const found = page && [...page.applied, ...page.available].find((c) => c.id === coupon.id);
        if (!found?.code) continue;
        const result = await this.#api("POST", `/coupons/${encodeURIComponent(coupon.id)}/apply`, { body: {} });
        await this.#applyToCart(result.coupon, result.apply_url);
        this.notice = { kind: "ok", text: `Code ${result.coupon.code} is applied to your cart.` };
        this.state.coupons = page;
        this.#render();
        return;
      }
    } catch {
      // The coupon stays listed under Coupons; the shopper can apply it from there.
    } finally {
      this.watching.delete(coupon.id);
    }
  }

  #toggleJoin(button) {
    const ways = this.shadowRoot.querySelector("#join-ways");
    ways.hidden = !ways.hidden;
    button.setAttribute("aria-expanded", String(!ways.hidden));
  }

  #retryRedemption(button) {
    const { reward, body } = this.notice.retry;
    return this.#submitRedemption(reward, body, button);
  }

  async #apply(button) {
    const id = button.dataset.id;
    this.#busy(button, "Applying…");
    try {
      const result = await this.#api("POST", `/coupons/${encodeURIComponent(id)}/apply`, { body: {} });
      await this.#applyToCart(result.coupon, result.apply_url); // the API records coupon_applied
      this.notice = { kind: "ok", text: `Code ${result.coupon.code} is applied to your cart.` };
      this.state.coupons = await this.#api("GET", "/coupons").catch(() => this.state.coupons);
    } catch (error) {
      this.notice = { kind: "err", text: this.#explain(error) };
    }
    this.#render();
    this.#focus(".notice");
  }

  /** Apply a coupon to the shop's cart: the apply_url's path on the shop's own origin. */
  async #applyToCart(coupon, applyUrl) {
    const target = new URL(applyUrl, location.href);
    const sameShop = new URL(target.pathname + target.search, location.origin);
    try {
      await fetch(sameShop, { credentials: "include", redirect: "manual" });
    } catch {
      return false;
    }
    this.dispatchEvent(
      new CustomEvent("customer-hub:coupon-applied", {
        bubbles: true,
        composed: true,
        detail: { code: coupon.code, coupon, apply_url: applyUrl },
      }),
    );
    return true;
  }

  async #copyReferral(button) {
    const input = this.shadowRoot.querySelector("#referral");
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    button.textContent = "Copied!";
    this.shadowRoot.querySelector("#copy-status").textContent = "Referral link copied";
  }

  #busy(button, text) {
    button.disabled = true;
    button.textContent = text;
  }

  #explain(error) {
    const slug = (error.problem.type || "").split("/").pop();
    if (slug === "insufficient-points") return `Not enough points yet: ${error.problem.points_needed ?? "more"} more needed.`;
    if (error.retryable) return "We couldn't reach the rewards program. Nothing was spent — please try again.";
    return error.message;
  }

  #showSpendError(id, range) {
    const message = this.shadowRoot.querySelector(`#spend-error-${id}`);
    if (message && range) {
      message.textContent = `Choose a multiple of ${range.step} between ${range.min} and ${range.max}.`;
    }
  }

  // ------------------------------------------------------------------ events
  #onClick(event) {
    const target = event.target.closest("[data-action]");
    if (!target || target.disabled) return;
    const action = target.dataset.action;
    if (action === "open") {
      this.opener = null;
      this.open();
    }
    else if (action === "close" || action === "dismiss") this.close();
    else if (action === "retry") this.#load();
    else if (action === "go") this.#go(target.dataset.page);
    else if (action === "redeem") this.#redeem(target);
    else if (action === "retry-redeem") this.#retryRedemption(target);
    else if (action === "apply") this.#apply(target);
    else if (action === "copy") this.#copyReferral(target);
    else if (action === "help") this.track("help_clicked");
    else if (action === "join") this.#toggleJoin(target);
  }

  #onInput(event) {
    const input = event.target;
    if (!input.dataset.spend) return;
    const id = Number(input.dataset.spend);
    const reward = this.state.rewards.redeemable.find((r) => r.points_product_id === id);
    const range = variableRange(reward.variable, this.state.rewards.points_balance);
    const value = Number(input.value);
    const ok = validSpend(range, value);
    const root = this.shadowRoot;
    if (input.type === "range" || ok) {
      root.querySelector(`#spend-${id}`).value = value;
      root.querySelector(`#slider-${id}`).value = value;
    }
    root.querySelector(`#spend-error-${id}`).textContent = ok ? "" : `Choose a multiple of ${range.step} between ${range.min} and ${range.max}.`;
    const button = root.querySelector(`[data-action=redeem][data-id="${id}"]`);
    button.disabled = !ok;
    button.textContent = ok ? `Redeem ${pointsText(value, this.#label())}` : "Redeem";
    root.querySelector(`#value-${id}`).textContent = ok ? this.#variableValue(reward, value) : "";
  }

  #onKeydown(event) {
    if (!this.state.open) return;
    if (event.key === "Escape") return this.close();
    if (event.key !== "Tab") return;
    // Keep focus inside the modal drawer.
    const focusable = [
      ...this.shadowRoot.querySelectorAll(".drawer :is(button, a[href], input, summary):not(:disabled)"),
    ].filter((e) => e.getClientRects().length > 0);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this.shadowRoot.activeElement;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  // ------------------------------------------------------------------ rendering
  #label() {
    return this.state.rewards?.points_label || this.state.loyalty?.points_label;
  }

  #variableValue(reward, points) {
    const step = reward.variable.step_value;
    return `${money((points / reward.variable.step) * Number(step.amount), step.currency)} off`;
  }

  /** A selector that finds "the same" control after a re-render, so focus is not lost. */
  #focusKey() {
    const active = this.shadowRoot.activeElement;
    if (!active) return null;
    if (active.id) return `#${active.id}`;
    const attrs = ["action", "id", "page"].filter((a) => active.dataset[a] !== undefined);
    return attrs.length ? attrs.map((a) => `[data-${a}="${active.dataset[a]}"]`).join("") : null;
  }

  #render() {
    const key = this.#focusKey();
    this.#paint();
    for (const img of this.shadowRoot.querySelectorAll("img")) {
      img.addEventListener("error", () => img.remove(), { once: true }); // no broken-image icons
    }
    if (!key) return;
    const again = this.shadowRoot.querySelector(key) || this.shadowRoot.querySelector("#hub-title");
    again?.focus();
  }

  #paint() {
    const { open, page, status } = this.state;
    if (!this.live) {
      this.shadowRoot.innerHTML = "";
      return;
    }
    const launcher =
      this.getAttribute("launcher") === "none"
        ? ""
        : `<button class="launcher" data-action="open" aria-haspopup="dialog" aria-expanded="${open}">For you</button>`;
    if (!open) {
      this.shadowRoot.innerHTML = `<style>${STYLE}</style>${launcher}`;
      return;
    }
    let content;
    if (status === "loading" || status === "idle") {
      content = `<p role="status" class="muted">Loading…</p>`;
    } else if (status === "error") {
      content = `<div role="alert" class="notice err"><p>${esc(this.#explainLoad(this.state.error))}</p>
        <button data-action="retry">Try again</button></div>`;
    } else {
      content = { home: () => this.#home(), rewards: () => this.#rewardsPage(), coupons: () => this.#couponsPage() }[page]();
    }
    const back = page === "home" ? "" : `<button class="link" data-action="go" data-page="home" aria-label="Back to For you">← Back</button>`;
    const notice = this.notice
      ? `<div class="notice ${this.notice.kind}" role="${this.notice.kind === "err" ? "alert" : "status"}" tabindex="-1">${esc(this.notice.text)}
         ${this.notice.retry ? `<button class="ghost" id="retry-redeem" data-action="retry-redeem">Try again</button>` : ""}</div>`
      : "";
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>${launcher}
      <div class="scrim" data-action="dismiss"></div>
      <section class="drawer" role="dialog" aria-modal="true" aria-labelledby="hub-title">
        <header>${back}<h2 id="hub-title" tabindex="-1">${PAGE_TITLES[page]}</h2>
          <button class="ghost" id="hub-close" data-action="close" aria-label="Close">✕</button></header>
        <div class="body">${notice}${content}
          <p class="muted"><a href="${esc(this.getAttribute("help-url") || "/pages/contact")}" data-action="help">Need help?</a></p>
        </div>
      </section>`;
  }

  #explainLoad(error) {
    if (error.status === 401) return "Your session has expired. Please log in again.";
    if (error.retryable) return "We couldn't load your rewards right now.";
    return `We couldn't load your rewards: ${error.message}`;
  }

  #home() {
    const loyalty = this.state.loyalty;
    const label = loyalty.points_label;
    switch (loyalty.state) {
      case "login_required":
        return `<div class="card" data-state="login_required"><h3>Rewards</h3>
          <p>Log in to see your points and rewards.</p>
          <a href="${esc(this.getAttribute("login-url") || "/account/login")}">Log in</a></div>`;
      case "excluded":
        return `<div data-state="excluded"></div>`;
      case "not_member":
        return `<div data-state="not_member">${loyalty.coupons_available ? this.#couponsLink(loyalty.coupons_available) : ""}</div>`;
      case "join":
        return `<div class="card" data-state="join"><h3>Rewards</h3>
          ${this.#bar(0, "Progress to your first reward")}
          <button data-action="join" aria-controls="join-ways" aria-expanded="false">Start earning rewards</button>
          <div id="join-ways" hidden>${this.#waysToEarn(loyalty.ways_to_earn, true)}</div></div>`;
      default:
        return this.#memberCard(loyalty, label);
    }
  }

  #memberCard(loyalty, label) {
    const tier = loyalty.vip_tier
      ? `<span class="tier">${loyalty.vip_tier.image_url ? `<img src="${esc(loyalty.vip_tier.image_url)}" alt="">` : ""}<span class="sr">VIP tier: </span>${esc(loyalty.vip_tier.name)}</span>`
      : "";
    const nextTier = loyalty.next_vip_tier
      ? `<p class="muted">${esc(Math.ceil(loyalty.next_vip_tier.amount_needed))} to go to ${esc(loyalty.next_vip_tier.name)}</p>`
      : "";
    const best = loyalty.best_reward
      ? `<p data-testid="best-reward"><strong>${esc(loyalty.best_reward.text)}</strong></p>`
      : "";
    const next = loyalty.next_reward
      ? `<p data-testid="next-reward">${esc(pointsText(loyalty.next_reward.points_needed, label))} more for ${esc(loyalty.next_reward.name)} (${esc(pointsText(loyalty.next_reward.points_price, label))})</p>`
      : "";
    const preview = (loyalty.rewards_preview || [])
      .map((r) => `<li class="item">${esc(r.name)} <span class="muted">· ${esc(pointsText(r.points_price, label))}</span></li>`)
      .join("");
    return `<div class="card" data-state="member">
        <div class="row"><h3 class="grow">Rewards</h3>${tier}</div>
        <p class="balance" data-testid="balance">${esc(pointsText(loyalty.points_balance, label))}</p>
        ${nextTier}${best}${next}
        ${this.#bar(loyalty.progress?.percent ?? 0, loyalty.next_reward ? `Progress to ${loyalty.next_reward.name}` : "Every reward unlocked")}
      </div>
      <div class="card"><h3>Rewards you can redeem</h3>
        ${preview ? `<ul aria-label="Rewards you can redeem">${preview}</ul>` : `<p class="muted">Keep earning to unlock your first reward.</p>`}
        <button class="ghost" data-action="go" data-page="rewards">See all rewards</button></div>
      <div class="card">${this.#couponsLink(loyalty.coupons_available || 0)}</div>
      ${loyalty.referral_url ? this.#referral(loyalty.referral_url) : ""}
      ${this.#waysToEarn(loyalty.ways_to_earn, false)}`;
  }

  #couponsLink(count) {
    return `<button class="ghost" data-action="go" data-page="coupons" data-testid="coupons-link">Coupons (${esc(count)} available)</button>`;
  }

  #bar(percent, label) {
    const value = Math.max(0, Math.min(100, Math.floor(percent)));
    return `<div class="bar" role="progressbar" aria-label="${esc(label)}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${value}"><span style="width:${value}%"></span></div>`;
  }

  #referral(url) {
    return `<div class="card referral"><h3>Refer a friend</h3>
      <div class="row"><label class="sr" for="referral">Your referral link</label>
      <input id="referral" readonly value="${esc(url)}">
      <button class="ghost" data-action="copy">Copy link</button></div>
      <p id="copy-status" class="sr" role="status"></p></div>`;
  }

  #waysToEarn(ways, open) {
    if (!ways || !ways.length) return "";
    const items = ways
      .map((w) => `<li class="item"><strong>${esc(w.name)}</strong><br><span class="muted">${esc(w.reward_text)}</span>
        ${w.action_url ? ` <a href="${esc(w.action_url)}">${esc(w.action_text || "Go")}</a>` : ""}</li>`)
      .join("");
    return `<details id="ways" class="card"${open ? " open" : ""}><summary>Ways to earn</summary><ul>${items}</ul></details>`;
  }

  #rewardsPage() {
    const data = this.state.rewards;
    const label = this.#label();
    if (data.state !== "member" && data.state !== "join") {
      return `<p class="muted">Rewards are not available for your account.</p>`;
    }
    const redeemable = data.redeemable.map((r) => this.#redeemable(r, data.points_balance, label)).join("");
    const locked = data.locked
      .map((r) => `<li class="item" data-locked="${r.points_product_id}"><strong>${esc(r.name)}</strong>
        <div class="muted">${esc(r.exchange_description || "")}</div>
        <div>${esc(pointsText(r.points_needed, label))} more needed</div></li>`)
      .join("");
    return `<div class="card"><p class="balance" data-testid="balance">${esc(pointsText(data.points_balance, label))}</p>
        ${this.#bar(data.progress?.percent ?? 0, "Progress to your next reward")}</div>
      <section class="card" aria-labelledby="redeem-title"><h3 id="redeem-title">Redeem your points</h3>
        ${redeemable ? `<ul>${redeemable}</ul>` : `<p class="muted">No rewards to redeem yet.</p>`}</section>
      ${locked ? `<section class="card" aria-labelledby="locked-title"><h3 id="locked-title">Keep earning for</h3><ul>${locked}</ul></section>` : ""}`;
  }

  #redeemable(reward, balance, label) {
    const id = reward.points_product_id;
    const head = `<strong>${esc(reward.name)}</strong><div class="muted">${esc(reward.description || reward.exchange_description || "")}</div>`;
    if (reward.exchange_type !== "variable") {
      return `<li class="item" data-reward="${id}">${head}
        <div class="row"><span class="grow">${esc(pointsText(reward.points_price, label))}</span>
        <button data-action="redeem" data-id="${id}" aria-label="Redeem ${esc(pointsText(reward.points_price, label))} for ${esc(reward.name)}">Redeem</button></div></li>`;
    }
    const range = variableRange(reward.variable, balance);
    const start = range.min;
    return `<li class="item" data-reward="${id}">${head}
      <label for="slider-${id}">Points to spend</label>
      <input type="range" id="slider-${id}" data-spend="${id}" min="${range.min}" max="${range.max}" step="${range.step}" value="${start}"
        aria-valuetext="${esc(pointsText(start, label))}">
      <div class="row"><label class="sr" for="spend-${id}">Points to spend on ${esc(reward.name)}</label>
        <input type="number" id="spend-${id}" data-spend="${id}" min="${range.min}" max="${range.max}" step="${range.step}" value="${start}" inputmode="numeric">
        <span class="grow" id="value-${id}" aria-live="polite">${esc(this.#variableValue(reward, start))}</span></div>
      <button data-action="redeem" data-id="${id}">Redeem ${esc(pointsText(start, label))}</button>
      <p class="error" id="spend-error-${id}" role="alert"></p></li>`;
  }

  #couponsPage() {
    const data = this.state.coupons;
    const issued = (list) => list.filter((c) => c.code);
    const item = (c, applied) => `<li class="item" data-coupon="${esc(c.id)}"><strong>${esc(c.name)}</strong>
        <div>Code <span class="code">${esc(c.code)}</span>${applied ? ` <span class="muted">· applied to your cart</span>` : ""}</div>
        ${c.expires_at ? `<div class="muted">Expires ${esc(new Date(c.expires_at).toLocaleDateString())}</div>` : ""}
        ${c.usage_instructions ? `<div class="muted">${esc(c.usage_instructions)}</div>` : ""}
        <button class="ghost" data-action="apply" data-id="${esc(c.id)}" aria-label="${applied ? "Apply again" : "Apply to cart"}: ${esc(c.name)}">${applied ? "Apply again" : "Apply to cart"}</button></li>`;
    const applied = issued(data.applied).map((c) => item(c, true)).join("");
    const available = issued(data.available).map((c) => item(c, false)).join("");
    return `<p data-testid="available-count"><strong>${esc(data.available_count)}</strong> available ${data.available_count === 1 ? "coupon" : "coupons"}</p>
      ${applied ? `<section class="card" aria-labelledby="applied-title"><h3 id="applied-title">In your cart</h3><ul>${applied}</ul></section>` : ""}
      <section class="card" aria-labelledby="available-title"><h3 id="available-title">Available coupons</h3>
        ${available ? `<ul>${available}</ul>` : `<p class="muted">No coupons available.</p>`}</section>`;
  }
}

if (!customElements.get("customer-hub")) customElements.define("customer-hub", CustomerHub);
