// The Valorize dashboard: a build-free ES module app (Preact + htm, vendored). This module is
// the shell: the API client, the signed-in session, live events over pusher-js, the hash
// router and the sign-in page. Each page is its own module, loaded when first opened.
import { html, render, useState, useEffect, useLayoutEffect, useRef } from "./vendor/preact/htm-preact.module.js";

export { html, useState, useEffect, useLayoutEffect, useRef };

const TOKEN_KEY = "valorize.token";

// ---- the API ------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, problem) {
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    super([problem.detail || problem.title || `HTTP ${status}`, fields].filter(Boolean).join(" — "));
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, body, { form = false } = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && token) signOut();
    throw new ApiError(response.status, data);
  }
  return data;
}

export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined && v !== false) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

// ---- money: decimal strings, summed exactly in minor units --------------------------------

const formats = new Map();
export function money(m) {
  if (!m) return "";
  const digits = (m.amount.split(".")[1] || "").length;
  const key = `${m.currency}:${digits}`;
  if (!formats.has(key)) {
    try {
      formats.set(key, new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency, minimumFractionDigits: digits, maximumFractionDigits: digits }));
    } catch {
      formats.set(key, { format: (n) => `${n} ${m.currency}` });
    }
  }
  return formats.get(key).format(Number(m.amount)); // display only; sums use minor units
}
export const sign = (m) => (m && m.amount.startsWith("-") ? "neg" : "pos");

export function sumMoney(items) {
  // {currency: {amount, currency}} — exact: BigInt minor units at the largest scale seen.
  const acc = new Map();
  for (const m of items) {
    const [whole, frac = ""] = m.amount.replace("-", "").split(".");
    const cur = acc.get(m.currency) || { minor: 0n, scale: 0 };
    let scale = Math.max(cur.scale, frac.length);
    let total = cur.minor * 10n ** BigInt(scale - cur.scale);
    const value = BigInt(whole + frac.padEnd(scale, "0")) * (m.amount.startsWith("-") ? -1n : 1n);
    acc.set(m.currency, { minor: total + value, scale });
  }
  return [...acc].map(([currency, { minor, scale }]) => {
    const neg = minor < 0n;
    const digits = (neg ? -minor : minor).toString().padStart(scale + 1, "0");
    const amount = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
    return { currency, amount: (neg ? "-" : "") + amount };
  });
}

// ---- shared state: the session, accounts and categories; pages subscribe ------------------

const listeners = new Set();
export const store = { me: null, accounts: [], categories: [], live: false, version: 0 };
function changed() {
  store.version += 1;
  for (const fn of listeners) fn(store.version);
}
export function useStore() {
  const [, setV] = useState(0);
  useEffect(() => {
    listeners.add(setV);
    return () => listeners.delete(setV);
  }, []);
  return store;
}

export async function refreshShared() {
  const [accounts, categories] = await Promise.all([api("GET", "/api/accounts"), api("GET", "/api/categories")]);
  store.accounts = accounts;
  store.categories = categories;
  changed();
}
export const accountName = (id) => (store.accounts.find((a) => a.id === id) || {}).name || "—";
export function categoryName(id) {
  if (!id) return "Uncategorized";
  const c = store.categories.find((x) => x.id === id);
  if (!c) return "…";
  const parent = c.parent_id && store.categories.find((x) => x.id === c.parent_id);
  return parent ? `${parent.name} › ${c.name}` : c.name;
}

// ---- live events over the tenant's private channel ----------------------------------------

const eventHandlers = new Set();
/** Calls ``fn(name, payload)`` for each live event while the component is mounted — the ``fn``
 * of the latest render, so a handler never acts on state a render has since replaced. */
export function useLive(fn) {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    const handler = (name, payload) => latest.current(name, payload);
    eventHandlers.add(handler);
    return () => eventHandlers.delete(handler);
  }, []);
}
let pusher = null;
window.__valorizeEvents = [];
async function connectLive(me) {
  if (!window.Pusher) await new Promise((ok) => window.addEventListener("load", ok, { once: true }));
  const config = await fetch("/app/config.json").then((r) => r.json());
  const url = config.realtime_url ? new URL(config.realtime_url) : null;
  const tls = url ? url.protocol === "wss:" : location.protocol === "https:";
  const port = url ? Number(url.port || (tls ? 443 : 80)) : config.realtime_port;
  pusher = new window.Pusher(config.pusher_key, {
    cluster: "local", wsHost: url ? url.hostname : location.hostname, wsPort: port, wssPort: port,
    forceTLS: tls, enabledTransports: tls ? ["wss"] : ["ws"], disableStats: true,
    channelAuthorization: { endpoint: "/broadcasting/auth", transport: "ajax",
      headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` } },
  });
  const channel = pusher.subscribe(`private-tenant.${me.tenant_id}`);
  channel.bind("pusher:subscription_succeeded", () => { store.live = true; changed(); });
  pusher.connection.bind("state_change", ({ current }) => { if (current !== "connected") { store.live = false; changed(); } });
  channel.bind_global((name, data) => {
    if (name.startsWith("pusher:")) return;
    window.__valorizeEvents.push(name); // what arrived, for the browser test and debugging
    const payload = name === "valorize:resync" ? {} : (data && data.payload) || {};
    if (name.startsWith("account.") || name.startsWith("transaction") || name === "valorize:resync") scheduleShared();
    for (const fn of [...eventHandlers]) fn(name, payload);
  });
}
let sharedTimer = null;
function scheduleShared() {
  clearTimeout(sharedTimer);
  sharedTimer = setTimeout(() => refreshShared().catch(() => {}), 150);
}

// ---- session ------------------------------------------------------------------------------

export async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
  try {
    store.me = await api("GET", "/api/me");
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw e;
  }
  await refreshShared();
  connectLive(store.me).catch((e) => console.warn("live updates unavailable", e));
}
export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (pusher) pusher.disconnect();
  pusher = null;
  store.me = null;
  store.live = false;
  location.hash = "#/";
  changed();
}

// ---- pages and routing --------------------------------------------------------------------

const PAGES = [
  ["overview", "Overview", () => import("./pages/overview.js")],
  ["transactions", "Transactions", () => import("./pages/transactions.js")],
  ["imports", "Imports", () => import("./pages/imports.js")],
  ["rules", "Rules", () => import("./pages/rules.js")],
  ["budgets", "Budgets", () => import("./pages/budgets.js")],
  ["reports", "Reports", () => import("./pages/reports.js")],
  ["accounts", "Accounts & categories", () => import("./pages/accounts.js")],
  ["members", "Members & tokens", () => import("./pages/members.js"), "owner"],
];

function useRoute() {
  const read = () => (location.hash.replace(/^#\/?/, "").split("?")[0] || "overview");
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function Page({ route }) {
  const [mod, setMod] = useState(null);
  const [error, setError] = useState(null);
  const entry = PAGES.find((p) => p[0] === route) || PAGES[0];
  useEffect(() => {
    let alive = true;
    setMod(null);
    entry[2]().then((m) => alive && setMod(m), (e) => alive && setError(String(e)));
    document.title = `${entry[1]} · Valorize`;
    return () => { alive = false; };
  }, [entry[0]]);
  if (error) return html`<div class="error" role="alert">${error}</div>`;
  if (!mod) return html`<p class="muted" aria-busy="true">Loading…</p>`;
  const View = mod.default;
  return html`<${View} />`;
}

function Shell() {
  const s = useStore();
  const route = useRoute();
  const pages = PAGES.filter((p) => !p[3] || (s.me && s.me.role === p[3]));
  return html`
    <header class="top">
      <span class="brand">Valorize</span>
      <nav aria-label="Pages">
        ${pages.map(([id, title]) => html`<a href="#/${id}" aria-current=${route === id ? "page" : undefined}>${title}</a>`)}
      </nav>
      <span class=${"live" + (s.live ? " on" : "")} id="live-status" role="status">${s.live ? "Live" : "Offline"}</span>
      <span>${s.me.name} (${s.me.role})</span>
      <button onClick=${signOut}>Sign out</button>
    </header>
    <main id="page"><${Page} route=${route} /></main>`;
}

function SignIn() {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try { await signIn(token); } catch (err) { setError(err.message); }
    setBusy(false);
  };
  const signup = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setError(null);
    try {
      const r = await api("POST", "/api/signup", { tenant_name: f.get("tenant_name"), email: f.get("email"), name: f.get("name") });
      setCreated(r.token);
      setToken(r.token);
    } catch (err) { setError(err.message); }
  };
  return html`
    <main class="signin">
      <h1>Valorize</h1>
      <section class="card">
        <h2>Sign in</h2>
        <form onSubmit=${submit} class="row" id="signin">
          <label style="flex:1">API token
            <input id="token" type="password" autocomplete="current-password" required value=${token}
              onInput=${(e) => setToken(e.target.value)} placeholder="vz_…" />
          </label>
          <button class="primary" disabled=${busy}>Sign in</button>
        </form>
        <p class="muted"><code>valorize dev</code> prints a demo token; owners make more under Members & tokens.</p>
        ${error && html`<div class="error" role="alert">${error}</div>`}
      </section>
      <section class="card">
        <h2>New here? Create a workspace</h2>
        <form onSubmit=${signup} class="row" id="signup">
          <label>Workspace <input name="tenant_name" required /></label>
          <label>Your name <input name="name" required /></label>
          <label>Email <input name="email" type="email" required /></label>
          <button>Create</button>
        </form>
        ${created && html`<div class="notice" role="status">Your owner token (shown once — keep it): <code>${created}</code>. It is filled in above: sign in.</div>`}
      </section>
    </main>`;
}

function App() {
  const s = useStore();
  const [ready, setReady] = useState(!sessionStorage.getItem(TOKEN_KEY));
  useEffect(() => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) signIn(token).catch(() => {}).finally(() => setReady(true));
  }, []);
  if (!ready) return html`<main class="loading" aria-busy="true">Loading Valorize…</main>`;
  return s.me ? html`<${Shell} />` : html`<${SignIn} />`;
}

render(html`<${App} />`, document.getElementById("root"));
window.__valorizeInteractive = performance.now(); // read by the browser test
