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
// It speaks English, Brazilian Portuguese or Polish: its `lang` attribute (the snippet renders the
// storefront's locale), else the page's <html lang>, else the browser's (docs/languages.md), and
// asks the API for its texts in that language (Accept-Language).

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
.tier img, .tier .initial { width: 20px; height: 20px; }
.tier .initial { display: inline-grid; place-items: center; border-radius: 50%; background: var(--hub-accent);
  color: #fff; font-size: .75em; font-weight: 700; }
.loyalty { cursor: pointer; }
h4 { font-size: .95em; margin: .8em 0 .3em; }
button.plain { background: none; border: 0; color: inherit; padding: .25em 0; min-height: 32px; width: 100%;
  text-align: left; border-radius: 4px; }
.bar.vip > span { background: #8a6d00; }
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

// ------------------------------------------------------------------ languages (docs/languages.md)
// en, pt-BR and pl: the element's `lang` attribute, else the page's <html lang>, else the
// browser's. The hub's own words only: reward, tier and rule names come from the merchant.
// A message is a string with {placeholders}, or one string per CLDR plural category of `n`.
export const MESSAGES = {
  en: {
    for_you: "For you", rewards: "Rewards", coupons: "Coupons",
    loading: "Loading…", try_again: "Try again",
    back: "← Back", back_label: "Back to For you", close: "Close", help: "Need help?",
    session_expired: "Your session has expired. Please log in again.",
    load_failed: "We couldn't load your rewards right now.",
    load_refused: "We couldn't load your rewards.",
    login_prompt: "Log in to see your points and rewards.", login: "Log in",
    start_earning: "Start earning rewards", first_reward_progress: "Progress to your first reward",
    vip_tier: "VIP tier:", vip_progress: "Progress to {tier}",
    more_for: "{points} more for {name} ({price})",
    progress_to: "Progress to {name}", all_unlocked: "Every reward unlocked",
    can_redeem: "Rewards you can redeem", keep_earning_first: "Keep earning to unlock your first reward.",
    see_all: "See all rewards",
    coupons_link: { one: "Coupons ({n} available)", other: "Coupons ({n} available)" },
    coupons_preview: { one: "{n} coupon available", other: "{n} coupons available" },
    see_coupons: "See your coupons",
    refer: "Refer a friend", referral_link: "Your referral link", copy: "Copy link", copied: "Copied!",
    referral_copied: "Referral link copied", ways: "Ways to earn", go: "Go",
    not_available: "Rewards are not available for your account.",
    more_needed: "{points} more needed", next_progress: "Progress to your next reward",
    redeem_title: "Redeem your points", none_yet: "No rewards to redeem yet.", keep_earning: "Keep earning for",
    redeem: "Redeem", redeem_for: "Redeem {points} for {name}", spend_label: "Points to spend",
    spend_on: "Points to spend on {name}", redeem_points: "Redeem {points}", value_off: "{value} off",
    range: "{from}–{to}",
    available_count: { one: "{n} available coupon", other: "{n} available coupons" },
    in_cart: "In your cart", available: "Available coupons", no_coupons: "No coupons available.",
    code: "Code", applied_note: "applied to your cart", expires: "Expires {date}",
    apply_again: "Apply again", apply: "Apply to cart", redeeming: "Redeeming…", applying: "Applying…",
    redeemed_applied: "{name}: code {code} is applied to your cart. Balance: {balance}.",
    redeemed_pending: "{name} redeemed: your coupon is on its way and will be applied to your cart once issued. Balance: {balance}.",
    confirming: "Confirming your redemption of {name}…",
    code_applied: "Code {code} is applied to your cart.",
    not_enough: "Not enough points yet: {n} more needed.", not_enough_plain: "Not enough points yet.",
    unreachable: "We couldn't reach the rewards program. Nothing was spent — please try again.",
    refused: "This didn't work. Please reload the page and try again.",
    choose_multiple: "Choose a multiple of {step} between {min} and {max}.",
    point: { one: "Point", other: "Points" },
  },
  "pt-BR": {
    for_you: "Para você", rewards: "Recompensas", coupons: "Cupons",
    loading: "Carregando…", try_again: "Tentar novamente",
    back: "← Voltar", back_label: "Voltar para Para você", close: "Fechar", help: "Precisa de ajuda?",
    session_expired: "Sua sessão expirou. Entre novamente.",
    load_failed: "Não foi possível carregar suas recompensas agora.",
    load_refused: "Não foi possível carregar suas recompensas.",
    login_prompt: "Entre para ver seus pontos e recompensas.", login: "Entrar",
    start_earning: "Comece a ganhar recompensas", first_reward_progress: "Progresso para sua primeira recompensa",
    vip_tier: "Nível VIP:", vip_progress: "Progresso para {tier}",
    more_for: "Faltam {points} para {name} ({price})",
    progress_to: "Progresso para {name}", all_unlocked: "Todas as recompensas desbloqueadas",
    can_redeem: "Recompensas que você pode resgatar", keep_earning_first: "Continue ganhando para desbloquear sua primeira recompensa.",
    see_all: "Ver todas as recompensas",
    coupons_link: { one: "Cupons ({n} disponível)", other: "Cupons ({n} disponíveis)" },
    coupons_preview: { one: "{n} cupom disponível", other: "{n} cupons disponíveis" },
    see_coupons: "Ver seus cupons",
    refer: "Indique um amigo", referral_link: "Seu link de indicação", copy: "Copiar link", copied: "Copiado!",
    referral_copied: "Link de indicação copiado", ways: "Formas de ganhar", go: "Ir",
    not_available: "As recompensas não estão disponíveis para sua conta.",
    more_needed: "Faltam {points}", next_progress: "Progresso para sua próxima recompensa",
    redeem_title: "Resgate seus pontos", none_yet: "Ainda não há recompensas para resgatar.", keep_earning: "Continue ganhando para",
    redeem: "Resgatar", redeem_for: "Resgatar {points} por {name}", spend_label: "Pontos a usar",
    spend_on: "Pontos a usar em {name}", redeem_points: "Resgatar {points}", value_off: "{value} de desconto",
    range: "{from}–{to}",
    available_count: { one: "{n} cupom disponível", other: "{n} cupons disponíveis" },
    in_cart: "No seu carrinho", available: "Cupons disponíveis", no_coupons: "Nenhum cupom disponível.",
    code: "Código", applied_note: "aplicado ao seu carrinho", expires: "Válido até {date}",
    apply_again: "Aplicar de novo", apply: "Aplicar ao carrinho", redeeming: "Resgatando…", applying: "Aplicando…",
    redeemed_applied: "{name}: o código {code} foi aplicado ao seu carrinho. Saldo: {balance}.",
    redeemed_pending: "{name} resgatado: seu cupom está a caminho e será aplicado ao carrinho assim que for emitido. Saldo: {balance}.",
    confirming: "Confirmando seu resgate de {name}…",
    code_applied: "O código {code} foi aplicado ao seu carrinho.",
    not_enough: "Pontos insuficientes: faltam {n}.", not_enough_plain: "Pontos insuficientes.",
    unreachable: "Não conseguimos falar com o programa de recompensas. Nada foi gasto — tente novamente.",
    refused: "Não deu certo. Recarregue a página e tente novamente.",
    choose_multiple: "Escolha um múltiplo de {step} entre {min} e {max}.",
    point: { one: "ponto", other: "pontos" },
  },
  pl: {
    for_you: "Dla Ciebie", rewards: "Nagrody", coupons: "Kupony",
    loading: "Wczytywanie…", try_again: "Spróbuj ponownie",
    back: "← Wróć", back_label: "Wróć do zakładki Dla Ciebie", close: "Zamknij", help: "Potrzebujesz pomocy?",
    session_expired: "Twoja sesja wygasła. Zaloguj się ponownie.",
    load_failed: "Nie udało się teraz wczytać Twoich nagród.",
    load_refused: "Nie udało się wczytać Twoich nagród.",
    login_prompt: "Zaloguj się, aby zobaczyć swoje punkty i nagrody.", login: "Zaloguj się",
    start_earning: "Zacznij zdobywać nagrody", first_reward_progress: "Postęp do pierwszej nagrody",
    vip_tier: "Poziom VIP:", vip_progress: "Postęp do poziomu {tier}",
    more_for: "Jeszcze {points} do nagrody {name} ({price})",
    progress_to: "Postęp do nagrody {name}", all_unlocked: "Wszystkie nagrody odblokowane",
    can_redeem: "Nagrody do odebrania", keep_earning_first: "Zbieraj dalej, aby odblokować pierwszą nagrodę.",
    see_all: "Zobacz wszystkie nagrody",
    coupons_link: { one: "Kupony ({n} dostępny)", few: "Kupony ({n} dostępne)", many: "Kupony ({n} dostępnych)", other: "Kupony ({n} dostępnego)" },
    coupons_preview: { one: "{n} dostępny kupon", few: "{n} dostępne kupony", many: "{n} dostępnych kuponów", other: "{n} dostępnego kuponu" },
    see_coupons: "Zobacz swoje kupony",
    refer: "Poleć znajomemu", referral_link: "Twój link polecający", copy: "Kopiuj link", copied: "Skopiowano!",
    referral_copied: "Skopiowano link polecający", ways: "Jak zdobywać punkty", go: "Przejdź",
    not_available: "Nagrody nie są dostępne dla Twojego konta.",
    more_needed: "Brakuje {points}", next_progress: "Postęp do następnej nagrody",
    redeem_title: "Wymień swoje punkty", none_yet: "Nie masz jeszcze nagród do odebrania.", keep_earning: "Zbieraj dalej na",
    redeem: "Wymień", redeem_for: "Wymień {points} na {name}", spend_label: "Punkty do wydania",
    spend_on: "Punkty do wydania na {name}", redeem_points: "Wymień {points}", value_off: "{value} zniżki",
    range: "{from}–{to}",
    available_count: { one: "{n} dostępny kupon", few: "{n} dostępne kupony", many: "{n} dostępnych kuponów", other: "{n} dostępnego kuponu" },
    in_cart: "W Twoim koszyku", available: "Dostępne kupony", no_coupons: "Brak dostępnych kuponów.",
    code: "Kod", applied_note: "dodany do koszyka", expires: "Ważny do {date}",
    apply_again: "Dodaj ponownie", apply: "Dodaj do koszyka", redeeming: "Wymieniamy…", applying: "Dodajemy…",
    redeemed_applied: "{name}: kod {code} został dodany do koszyka. Saldo: {balance}.",
    redeemed_pending: "Wymieniono {name}: kupon jest w drodze i trafi do koszyka, gdy tylko zostanie wydany. Saldo: {balance}.",
    confirming: "Potwierdzamy wymianę: {name}…",
    code_applied: "Kod {code} został dodany do koszyka.",
    not_enough: "Za mało punktów: brakuje {n}.", not_enough_plain: "Za mało punktów.",
    unreachable: "Nie udało się połączyć z programem nagród. Nic nie zostało wydane — spróbuj ponownie.",
    refused: "Nie udało się. Odśwież stronę i spróbuj ponownie.",
    choose_multiple: "Wybierz wielokrotność {step} od {min} do {max}.",
    point: { one: "punkt", few: "punkty", many: "punktów", other: "punktu" },
  },
};

/** One of en, pt-BR, pl for a BCP 47 tag; null for any other language. */
export function supportedLanguage(tag) {
  const primary = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
  if (primary === "pt") return "pt-BR";
  return primary === "en" || primary === "pl" ? primary : null;
}

/** A message of `lang` with its {placeholders} filled; plural messages pick by `params.n`. */
export function translate(lang, key, params = {}) {
  let message = (MESSAGES[lang] || MESSAGES.en)[key] ?? MESSAGES.en[key];
  if (typeof message === "object") {
    const category = new Intl.PluralRules(lang).select(Number(params.n));
    message = message[category] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (_, name) =>
    name === "n" ? formatNumber(lang, params.n) : String(params[name] ?? ""),
  );
}

export function formatNumber(lang, n) {
  return new Intl.NumberFormat(lang).format(n);
}

/** Smile's default label ("Point"/"Points") is the hub's word in every CLDR form; a label the
 * merchant wrote keeps its two forms: `one` for CLDR "one", `other` for every other category. */
export function pointsText(n, label, lang = "en") {
  const names = label || { one: "Point", other: "Points" };
  const category = new Intl.PluralRules(lang).select(Number(n));
  const word =
    names.one === "Point" && names.other === "Points"
      ? translate(lang, "point", { n })
      : category === "one" ? names.one : names.other;
  return `${formatNumber(lang, n)} ${word}`;
}

/** Money for the locale; whole amounts without decimals ("$1", "1 zł", "R$ 1"). */
export function money(amount, currency, lang = "en") {
  const value = Number(amount);
  const whole = Number.isInteger(value) ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {};
  return new Intl.NumberFormat(lang, { style: "currency", currency, ...whole }).format(value);
}

export function formatDate(lang, iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(iso));
}

const PAGE_TITLES = { home: "for_you", rewards: "rewards", coupons: "coupons" };
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
  static observedAttributes = ["api-base", "merchant-id", "customer-token", "login-url", "launcher", "lang", ...SIGNED_ATTRIBUTES];

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
    if (name === "lang") return this.#relanguage();
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

  /** en, pt-BR or pl: the `lang` attribute, else the page's <html lang>, else the browser's. */
  get language() {
    const candidates = [this.getAttribute("lang"), document.documentElement.lang, ...(navigator.languages || [navigator.language])];
    for (const candidate of candidates) {
      const found = supportedLanguage(candidate);
      if (found) return found;
    }
    return "en";
  }

  /** A message of the drawer's language. */
  t(key, params) {
    return translate(this.language, key, params);
  }

  /** A new language: the server-built texts are reloaded in it. */
  #relanguage() {
    Object.assign(this.state, { loyalty: null, rewards: null, coupons: null });
    if (this.state.open) this.#load();
    else this.#render();
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

  async #request(method, path, { body, headers, token, keepalive = false } = {}) {
    const base = (this.getAttribute("api-base") || "").replace(/\/$/, "");
    const merchant = encodeURIComponent(this.getAttribute("merchant-id") || "");
    const init = { method, headers: { Accept: "application/json", "Accept-Language": this.language, ...headers } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (keepalive) init.keepalive = true;
    let response;
    try {
      response = await fetch(`${base}/v1/shops/${merchant}/hub${path}`, init);
    } catch {
      throw new HubError(0, { detail: "offline" });
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
    // keepalive: the request outlives the page, e.g. a help link that navigates away.
    const send = { body: { events: [event] }, keepalive: true };
    const token = this.#tokenNow();
    // With a token at hand the request leaves within the click, before any navigation starts.
    const sent = token ? this.#request("POST", "/events", { ...send, token }) : this.#api("POST", "/events", send);
    sent.catch(() => {});
  }

  /** The customer token when it is known without a request, else null. */
  #tokenNow() {
    if (this.token) return this.token;
    return this.session && Date.now() < this.session.refreshAt ? this.session.token : null;
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
    if (button) this.#busy(button, this.t("redeeming"));
    try {
      const result = await this.#api("POST", `/rewards/${id}/redeem`, {
        body,
        headers: { "Idempotency-Key": key },
      });
      this.#forgetRedemption(keyFor, slot);
      const label = this.#label();
      const applied = result.coupon.code ? await this.#applyToCart(result.coupon, result.apply_url) : false;
      if (!result.coupon.code) this.#watchPendingCoupon(result.coupon);
      const balance = pointsText(result.points_balance, label, this.language);
      this.notice = {
        kind: "ok",
        text: applied
          ? this.t("redeemed_applied", { name: reward.name, code: result.coupon.code, balance })
          : this.t("redeemed_pending", { name: reward.name, balance }),
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
        this.notice = { kind: "ok", text: this.t("confirming", { name: reward.name }), confirming: true };
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
        this.notice = { kind: "ok", text: this.t("code_applied", { code: result.coupon.code }) };
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
    this.#busy(button, this.t("applying"));
    try {
      const result = await this.#api("POST", `/coupons/${encodeURIComponent(id)}/apply`, { body: {} });
      await this.#applyToCart(result.coupon, result.apply_url); // the API records coupon_applied
      this.notice = { kind: "ok", text: this.t("code_applied", { code: result.coupon.code }) };
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
    button.textContent = this.t("copied");
    this.shadowRoot.querySelector("#copy-status").textContent = this.t("referral_copied");
  }

  #busy(button, text) {
    button.disabled = true;
    button.textContent = text;
  }

  /** What went wrong, in the shopper's language (the API's problem details are English). */
  #explain(error) {
    const slug = (error.problem.type || "").split("/").pop();
    if (slug === "insufficient-points") {
      const needed = error.problem.points_needed;
      return needed == null ? this.t("not_enough_plain") : this.t("not_enough", { n: needed });
    }
    if (error.retryable) return this.t("unreachable");
    if (error.status === 401) return this.t("session_expired");
    return this.t("refused");
  }

  #spendMessage(range) {
    const lang = this.language;
    return this.t("choose_multiple", {
      step: formatNumber(lang, range.step),
      min: formatNumber(lang, range.min),
      max: formatNumber(lang, range.max),
    });
  }

  #showSpendError(id, range) {
    const message = this.shadowRoot.querySelector(`#spend-error-${id}`);
    if (message && range) message.textContent = this.#spendMessage(range);
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
    const spent = pointsText(value, this.#label(), this.language);
    if (input.type === "range" || ok) {
      root.querySelector(`#spend-${id}`).value = value;
      const slider = root.querySelector(`#slider-${id}`);
      slider.value = value;
      slider.setAttribute("aria-valuetext", spent);
    }
    root.querySelector(`#spend-error-${id}`).textContent = ok ? "" : this.#spendMessage(range);
    const button = root.querySelector(`[data-action=redeem][data-id="${id}"]`);
    button.disabled = !ok;
    button.textContent = ok ? this.t("redeem_points", { points: spent }) : this.t("redeem");
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

  #points(n) {
    return pointsText(n, this.#label(), this.language);
  }

  #money(value) {
    return money(value.amount, value.currency, this.language);
  }

  #variableMoney(reward, points) {
    const step = reward.variable.step_value;
    return money((points / reward.variable.step) * Number(step.amount), step.currency, this.language);
  }

  #variableValue(reward, points) {
    return this.t("value_off", { value: this.#variableMoney(reward, points) });
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
    this.#imageFallbacks();
    if (!key) return;
    const again = this.shadowRoot.querySelector(key) || this.shadowRoot.querySelector("#hub-title");
    again?.focus();
  }

  /** No broken-image icons: a tier image that fails becomes a badge with the tier's initial
   * (the badge keeps its name); any other image that fails is removed. */
  #imageFallbacks() {
    for (const img of this.shadowRoot.querySelectorAll("img")) {
      const fallback = () => {
        if (img.dataset.initial) {
          const badge = document.createElement("span");
          badge.className = "initial";
          badge.setAttribute("aria-hidden", "true");
          badge.textContent = img.dataset.initial;
          img.replaceWith(badge);
        } else img.remove();
      };
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) fallback();
      else img.addEventListener("error", fallback, { once: true });
    }
  }

  #paint() {
    const { open, page, status } = this.state;
    if (!this.live) {
      this.shadowRoot.innerHTML = "";
      return;
    }
    const lang = this.language;
    const launcher =
      this.getAttribute("launcher") === "none"
        ? ""
        : `<button class="launcher" data-action="open" aria-haspopup="dialog" aria-expanded="${open}" lang="${lang}">${esc(this.t("for_you"))}</button>`;
    if (!open) {
      this.shadowRoot.innerHTML = `<style>${STYLE}</style>${launcher}`;
      return;
    }
    let content;
    if (status === "loading" || status === "idle") {
      content = `<p role="status" class="muted">${esc(this.t("loading"))}</p>`;
    } else if (status === "error") {
      content = `<div role="alert" class="notice err"><p>${esc(this.#explainLoad(this.state.error))}</p>
        <button data-action="retry">${esc(this.t("try_again"))}</button></div>`;
    } else {
      content = { home: () => this.#home(), rewards: () => this.#rewardsPage(), coupons: () => this.#couponsPage() }[page]();
    }
    const back = page === "home" ? "" : `<button class="link" data-action="go" data-page="home" aria-label="${esc(this.t("back_label"))}">${esc(this.t("back"))}</button>`;
    const notice = this.notice
      ? `<div class="notice ${this.notice.kind}" role="${this.notice.kind === "err" ? "alert" : "status"}" tabindex="-1">${esc(this.notice.text)}
         ${this.notice.retry ? `<button class="ghost" id="retry-redeem" data-action="retry-redeem">${esc(this.t("try_again"))}</button>` : ""}</div>`
      : "";
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>${launcher}
      <div class="scrim" data-action="dismiss"></div>
      <section class="drawer" role="dialog" aria-modal="true" aria-labelledby="hub-title" lang="${lang}">
        <header>${back}<h2 id="hub-title" tabindex="-1">${esc(this.t(PAGE_TITLES[page]))}</h2>
          <button class="ghost" id="hub-close" data-action="close" aria-label="${esc(this.t("close"))}">✕</button></header>
        <div class="body">${notice}${content}
          <p class="muted"><a href="${esc(this.getAttribute("help-url") || "/pages/contact")}" data-action="help">${esc(this.t("help"))}</a></p>
        </div>
      </section>`;
  }

  #explainLoad(error) {
    if (error.status === 401) return this.t("session_expired");
    if (error.retryable) return this.t("load_failed");
    return this.t("load_refused");
  }

  #home() {
    const loyalty = this.state.loyalty;
    switch (loyalty.state) {
      case "login_required":
        return `<div class="card" data-state="login_required"><h3>${esc(this.t("rewards"))}</h3>
          <p>${esc(this.t("login_prompt"))}</p>
          <a href="${esc(this.getAttribute("login-url") || "/account/login")}">${esc(this.t("login"))}</a></div>`;
      case "excluded":
        return `<div data-state="excluded"></div>`;
      case "not_member":
        return `<div data-state="not_member">${loyalty.coupons_available ? this.#couponsLink(loyalty.coupons_available) : ""}</div>`;
      case "join":
        return `<div class="card" data-state="join"><h3>${esc(this.t("rewards"))}</h3>
          ${this.#bar(0, this.t("first_reward_progress"))}
          <button data-action="join" aria-controls="join-ways" aria-expanded="false">${esc(this.t("start_earning"))}</button>
          <div id="join-ways" hidden>${this.#waysToEarn(loyalty.ways_to_earn, true)}</div></div>`;
      default:
        return this.#memberCard(loyalty);
    }
  }

  #tierBadge(tier) {
    if (!tier) return "";
    const initial = esc(Array.from(tier.name.trim())[0] || "★");
    const image = tier.image_url ? `<img src="${esc(tier.image_url)}" alt="" data-initial="${initial}">` : `<span class="initial" aria-hidden="true">${initial}</span>`;
    return `<span class="tier" data-testid="tier">${image}<span class="sr">${esc(this.t("vip_tier"))} </span>${esc(tier.name)}</span>`;
  }

  /** The VIP tier still to reach: what is needed, in its unit (server text), and a bar. */
  #vipProgress(next) {
    if (!next || !next.text) return "";
    const bar = next.percent == null ? "" : this.#bar(next.percent, this.t("vip_progress", { tier: next.name }), "vip");
    return `<div class="vip" data-testid="vip-progress"><p class="muted">${esc(next.text)}</p>${bar}</div>`;
  }

  /** A reward of the preview; a variable one with the range of points and value it can take. */
  #previewItem(reward) {
    let price = this.#points(reward.points_price);
    if (reward.exchange_type === "variable" && reward.variable) {
      const v = reward.variable;
      const points = v.min === v.max ? this.#points(v.max) : this.t("range", { from: formatNumber(this.language, v.min), to: this.#points(v.max) });
      const value = v.min === v.max ? this.#money(v.max_value) : this.t("range", { from: this.#money(v.min_value), to: this.#money(v.max_value) });
      price = `${points} · ${value}`;
    }
    return `<li class="item"><button class="plain" data-action="go" data-page="rewards" data-preview="${reward.points_product_id}">
      ${esc(reward.name)} <span class="muted">· ${esc(price)}</span></button></li>`;
  }

  /** The loyalty component: each of its elements opens the Rewards page (the seed's rule). */
  #memberCard(loyalty) {
    const best = loyalty.best_reward
      ? `<p data-testid="best-reward"><strong>${esc(loyalty.best_reward.text)}</strong></p>`
      : "";
    const next = loyalty.next_reward
      ? `<p data-testid="next-reward">${esc(this.t("more_for", { points: this.#points(loyalty.next_reward.points_needed), name: loyalty.next_reward.name, price: this.#points(loyalty.next_reward.points_price) }))}</p>`
      : "";
    const preview = (loyalty.rewards_preview || []).map((r) => this.#previewItem(r)).join("");
    const count = loyalty.coupons_available || 0;
    return `<div class="card loyalty" data-state="member" data-action="go" data-page="rewards">
        <div class="row"><h3 class="grow">${esc(this.t("rewards"))}</h3>${this.#tierBadge(loyalty.vip_tier)}</div>
        <p class="balance" data-testid="balance">${esc(this.#points(loyalty.points_balance))}</p>
        ${this.#vipProgress(loyalty.next_vip_tier)}${best}${next}
        ${this.#bar(loyalty.progress?.percent ?? 0, loyalty.next_reward ? this.t("progress_to", { name: loyalty.next_reward.name }) : this.t("all_unlocked"))}
        <h4>${esc(this.t("can_redeem"))}</h4>
        ${preview ? `<ul aria-label="${esc(this.t("can_redeem"))}">${preview}</ul>` : `<p class="muted">${esc(this.t("keep_earning_first"))}</p>`}
        <p class="muted" data-testid="coupons-preview">${esc(this.t("coupons_preview", { n: count }))}</p>
        <button class="ghost" data-action="go" data-page="rewards">${esc(this.t("see_all"))}</button></div>`;
  }

  #couponsLink(count) {
    return `<button class="ghost" data-action="go" data-page="coupons" data-testid="coupons-link">${esc(this.t("coupons_link", { n: count }))}</button>`;
  }

  #bar(percent, label, name = "reward") {
    const value = Math.max(0, Math.min(100, Math.floor(percent)));
    return `<div class="bar ${name}" role="progressbar" aria-label="${esc(label)}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${value}"><span style="width:${value}%"></span></div>`;
  }

  #referral(url) {
    return `<div class="card referral"><h3>${esc(this.t("refer"))}</h3>
      <div class="row"><label class="sr" for="referral">${esc(this.t("referral_link"))}</label>
      <input id="referral" readonly value="${esc(url)}">
      <button class="ghost" data-action="copy">${esc(this.t("copy"))}</button></div>
      <p id="copy-status" class="sr" role="status"></p></div>`;
  }

  #waysToEarn(ways, open) {
    if (!ways || !ways.length) return "";
    const items = ways
      .map((w) => `<li class="item"><strong>${esc(w.name)}</strong><br><span class="muted">${esc(w.reward_text)}</span>
        ${w.action_url ? ` <a href="${esc(w.action_url)}">${esc(w.action_text || this.t("go"))}</a>` : ""}</li>`)
      .join("");
    return `<details id="ways" class="card"${open ? " open" : ""}><summary>${esc(this.t("ways"))}</summary><ul>${items}</ul></details>`;
  }

  /** The Rewards page in the seed's order: progress, rewards to redeem and still locked, the
   * coupon preview, the referral link, ways to earn. */
  #rewardsPage() {
    const data = this.state.rewards;
    if (data.state !== "member" && data.state !== "join") {
      return `<p class="muted">${esc(this.t("not_available"))}</p>`;
    }
    const redeemable = data.redeemable.map((r) => this.#redeemable(r, data.points_balance)).join("");
    const locked = data.locked
      .map((r) => `<li class="item" data-locked="${r.points_product_id}"><strong>${esc(r.name)}</strong>
        <div class="muted">${esc(r.exchange_description || "")}</div>
        <div>${esc(this.t("more_needed", { points: this.#points(r.points_needed) }))}</div></li>`)
      .join("");
    const available = (data.coupons?.available || []).filter((c) => c.code).length;
    return `<div class="card"><p class="balance" data-testid="balance">${esc(this.#points(data.points_balance))}</p>
        ${this.#bar(data.progress?.percent ?? 0, this.t("next_progress"))}</div>
      <section class="card" aria-labelledby="redeem-title"><h3 id="redeem-title">${esc(this.t("redeem_title"))}</h3>
        ${redeemable ? `<ul>${redeemable}</ul>` : `<p class="muted">${esc(this.t("none_yet"))}</p>`}</section>
      ${locked ? `<section class="card" aria-labelledby="locked-title"><h3 id="locked-title">${esc(this.t("keep_earning"))}</h3><ul>${locked}</ul></section>` : ""}
      <section class="card" aria-labelledby="coupons-title" data-testid="rewards-coupons"><h3 id="coupons-title">${esc(this.t("coupons"))}</h3>
        <p>${esc(this.t("coupons_preview", { n: available }))}</p>${this.#couponsLink(available)}</section>
      ${data.referral_url ? this.#referral(data.referral_url) : ""}
      ${this.#waysToEarn(data.ways_to_earn, false)}`;
  }

  #redeemable(reward, balance) {
    const id = reward.points_product_id;
    const head = `<strong>${esc(reward.name)}</strong><div class="muted">${esc(reward.description || reward.exchange_description || "")}</div>`;
    if (reward.exchange_type !== "variable") {
      const price = this.#points(reward.points_price);
      return `<li class="item" data-reward="${id}">${head}
        <div class="row"><span class="grow">${esc(price)}</span>
        <button data-action="redeem" data-id="${id}" aria-label="${esc(this.t("redeem_for", { points: price, name: reward.name }))}">${esc(this.t("redeem"))}</button></div></li>`;
    }
    const range = variableRange(reward.variable, balance);
    const start = range.min;
    const ends = this.t("range", { from: formatNumber(this.language, range.min), to: this.#points(range.max) });
    return `<li class="item" data-reward="${id}">${head}
      <div class="muted" data-testid="range-${id}">${esc(ends)} · ${esc(this.t("value_off", { value: this.t("range", { from: this.#variableMoney(reward, range.min), to: this.#variableMoney(reward, range.max) }) }))}</div>
      <label for="slider-${id}">${esc(this.t("spend_label"))}</label>
      <input type="range" id="slider-${id}" data-spend="${id}" min="${range.min}" max="${range.max}" step="${range.step}" value="${start}"
        aria-valuetext="${esc(this.#points(start))}">
      <div class="row"><label class="sr" for="spend-${id}">${esc(this.t("spend_on", { name: reward.name }))}</label>
        <input type="number" id="spend-${id}" data-spend="${id}" min="${range.min}" max="${range.max}" step="${range.step}" value="${start}" inputmode="numeric">
        <span class="grow" id="value-${id}" aria-live="polite">${esc(this.#variableValue(reward, start))}</span></div>
      <button data-action="redeem" data-id="${id}">${esc(this.t("redeem_points", { points: this.#points(start) }))}</button>
      <p class="error" id="spend-error-${id}" role="alert"></p></li>`;
  }

  #couponsPage() {
    const data = this.state.coupons;
    const issued = (list) => list.filter((c) => c.code);
    const item = (c, applied) => {
      const action = applied ? this.t("apply_again") : this.t("apply");
      return `<li class="item" data-coupon="${esc(c.id)}"><strong>${esc(c.name)}</strong>
        <div>${esc(this.t("code"))} <span class="code">${esc(c.code)}</span>${applied ? ` <span class="muted">· ${esc(this.t("applied_note"))}</span>` : ""}</div>
        ${c.expires_at ? `<div class="muted" data-testid="expires">${esc(this.t("expires", { date: formatDate(this.language, c.expires_at) }))}</div>` : ""}
        ${c.usage_instructions ? `<div class="muted">${esc(c.usage_instructions)}</div>` : ""}
        <button class="ghost" data-action="apply" data-id="${esc(c.id)}" aria-label="${esc(action)}: ${esc(c.name)}">${esc(action)}</button></li>`;
    };
    const applied = issued(data.applied).map((c) => item(c, true)).join("");
    const available = issued(data.available).map((c) => item(c, false)).join("");
    return `<p data-testid="available-count">${esc(this.t("available_count", { n: data.available_count }))}</p>
      ${applied ? `<section class="card" aria-labelledby="applied-title"><h3 id="applied-title">${esc(this.t("in_cart"))}</h3><ul>${applied}</ul></section>` : ""}
      <section class="card" aria-labelledby="available-title"><h3 id="available-title">${esc(this.t("available"))}</h3>
        ${available ? `<ul>${available}</ul>` : `<p class="muted">${esc(this.t("no_coupons"))}</p>`}</section>`;
  }
}

if (!customElements.get("customer-hub")) customElements.define("customer-hub", CustomerHub);
