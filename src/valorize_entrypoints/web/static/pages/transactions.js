// Transactions: every filter of GET /api/transactions, keyset paging ("More"), inline category
// correction with the categorizer's source, confidence and explanation, split editing, new
// transactions and transfers. New transactions appear live.
import { html, useState, useEffect, useLayoutEffect, useRef, api, query, money, sign, useStore, useLive, accountName, categoryName } from "../app.js";
import { ErrorBox, CategorySelect, AccountSelect, today } from "./ui.js";

const PAGE = 50;
const FILTERS = ["account_id", "category_id", "q", "date_from", "date_to", "amount_min", "amount_max", "uncategorized", "import_id"];

function initialFilters() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  return Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || (k === "uncategorized" ? false : "")]));
}

function Why({ t }) {
  const c = t.categorization;
  if (!c || !c.source || c.source === "none") return null;
  return html`<div class="why" data-why>${c.source} · confidence ${c.confidence}${c.explanation ? ` · ${c.explanation}` : ""}</div>`;
}

function Suggestions({ t, onPick }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api("GET", `/api/transactions/${t.id}/suggestions`).then(setItems, setError); }, [t.id]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!items) return html`<span class="muted">…</span>`;
  if (!items.length) return html`<span class="muted">No suggestions.</span>`;
  return html`<ul class="why">${items.map((sg) => html`<li>
    <button onClick=${() => onPick(sg.category_id)}>${categoryName(sg.category_id)}</button> ${sg.source} · ${sg.confidence} · ${sg.explanation}</li>`)}</ul>`;
}

function SplitEditor({ t, onSaved, onCancel }) {
  const [rows, setRows] = useState(t.splits.map((sp) => ({ amount: sp.amount.amount, category_id: sp.category_id, memo: sp.memo })));
  const [error, setError] = useState(null);
  const set = (i, k, v) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)));
  const save = async () => {
    try { onSaved(await api("PATCH", `/api/transactions/${t.id}`, { splits: rows })); } catch (e) { setError(e); }
  };
  return html`<div class="group" data-split-editor>
    ${rows.map((r, i) => html`<div class="cond">
      <label>Amount <input value=${r.amount} size="10" onInput=${(e) => set(i, "amount", e.target.value)} /></label>
      <${CategorySelect} value=${r.category_id} onChange=${(v) => set(i, "category_id", v)} />
      <label>Memo <input value=${r.memo} onInput=${(e) => set(i, "memo", e.target.value)} /></label>
      <button onClick=${() => setRows(rows.filter((_, j) => j !== i))} aria-label="Remove this split">✕</button></div>`)}
    <div class="row"><button onClick=${() => setRows([...rows, { amount: "0", category_id: null, memo: "" }])}>Add split</button>
      <button class="primary" onClick=${save}>Save splits</button><button onClick=${onCancel}>Cancel</button>
      <span class="muted">Splits must add up to ${money(t.amount)}.</span></div>
    <${ErrorBox} error=${error} /></div>`;
}

function Row({ t, onChanged, fresh }) {
  const [open, setOpen] = useState(null); // "why" | "split"
  const [error, setError] = useState(null);
  const category = t.splits.length === 1 ? t.splits[0].category_id : null;
  const correct = async (categoryId) => {
    setError(null);
    try {
      onChanged(categoryId ? await api("POST", `/api/transactions/${t.id}/category`, { category_id: categoryId })
        : await api("PATCH", `/api/transactions/${t.id}`, { category_id: null }));
      setOpen(null);
    } catch (e) { setError(e); }
  };
  return html`<tr class=${fresh ? "fresh" : ""} data-id=${t.id}>
    <td>${t.booked_on}</td>
    <td>${t.description}${t.payee && t.payee !== t.description ? html`<div class="muted">${t.payee}</div>` : ""}
      ${t.transfer_id && html`<div class="muted">transfer</div>`}${t.status !== "posted" && html`<div class="muted">${t.status}</div>`}</td>
    <td>${accountName(t.account_id)}</td>
    <td>${t.splits.length > 1
      ? html`<div>${t.splits.map((sp) => html`<div>${categoryName(sp.category_id)} <span class="muted">${money(sp.amount)}</span></div>`)}</div>`
      : html`<${CategorySelect} hideLabel label=${`Category of ${t.description}`} value=${category} onChange=${correct} />`}
      <button class="small" aria-expanded=${open === "why"} onClick=${() => setOpen(open === "why" ? null : "why")}>Suggestions</button>
      <button class="small" aria-expanded=${open === "split"} onClick=${() => setOpen(open === "split" ? null : "split")}>Split</button>
      <${Why} t=${t} />
      ${open === "why" && html`<${Suggestions} t=${t} onPick=${correct} />`}
      ${open === "split" && html`<${SplitEditor} t=${t} onSaved=${(x) => { onChanged(x); setOpen(null); }} onCancel=${() => setOpen(null)} />`}
      <${ErrorBox} error=${error} /></td>
    <td class=${"num " + sign(t.amount)}>${money(t.amount)}</td></tr>`;
}

function NewForms({ onDone }) {
  const s = useStore();
  const [error, setError] = useState(null);
  const [ok, setOk] = useState(null);
  const submit = (path, build) => async (e) => {
    e.preventDefault();
    setError(null);
    try { await api("POST", path, build(new FormData(e.target))); setOk("Saved."); e.target.reset(); onDone(); } catch (err) { setError(err); }
  };
  if (!s.accounts.length) return html`<p class="muted">Open an account first (Accounts & categories).</p>`;
  return html`<details><summary>New transaction or transfer</summary>
    <form class="row" id="new-transaction" onSubmit=${submit("/api/transactions", (f) => ({
      account_id: f.get("account_id"), booked_on: f.get("booked_on"), description: f.get("description"), amount: f.get("amount") }))}>
      <${AccountSelect} name="account_id" />
      <label>Date <input name="booked_on" type="date" required defaultValue=${today()} /></label>
      <label>Description <input name="description" required /></label>
      <label>Amount <input name="amount" required placeholder="-12.34" pattern="[+-]?[0-9]+(\\.[0-9]+)?" /></label>
      <button class="primary">Add transaction</button></form>
    <form class="row" id="new-transfer" onSubmit=${submit("/api/transfers", (f) => ({
      from_account_id: f.get("from"), to_account_id: f.get("to"), amount: f.get("amount"), booked_on: f.get("booked_on") }))}>
      <${AccountSelect} name="from" label="From" /><${AccountSelect} name="to" label="To" />
      <label>Amount <input name="amount" required placeholder="100.00" /></label>
      <label>Date <input name="booked_on" type="date" required defaultValue=${today()} /></label>
      <button class="primary">Transfer</button></form>
    <${ErrorBox} error=${error} />${ok && html`<span class="muted" role="status">${ok}</span>`}</details>`;
}

export default function Transactions() {
  useStore();
  const [filters, setFilters] = useState(initialFilters);
  const [applied, setApplied] = useState(filters);
  const [page, setPage] = useState({ items: [], next: null, loading: true });
  const [error, setError] = useState(null);
  const [fresh, setFresh] = useState(new Set());
  const seq = useRef(0);
  const current = useRef(applied);
  current.current = applied; // a live event's reload uses the filters shown now, never a stale closure's

  const load = async (cursor = null) => {
    const mine = ++seq.current;
    const f = current.current;
    setError(null);
    // A first page on its way replaces the list: "More" waits for it (a cursor of the page shown
    // now would append the next page of the old list, and its answer would drop the new one's).
    if (!cursor) setPage((p) => ({ ...p, loading: true }));
    try {
      const data = await api("GET", `/api/transactions${query({ ...f, uncategorized: f.uncategorized ? "true" : "", limit: PAGE, cursor })}`);
      if (mine !== seq.current) return;
      performance.clearMarks("transactions-data");
      performance.mark("transactions-data");
      setPage((p) => ({ items: cursor ? [...p.items, ...data.items] : data.items, next: data.next_cursor, loading: false }));
    } catch (e) { setError(e); setPage((p) => ({ ...p, loading: false })); }
  };
  useEffect(() => { load(); }, [applied]);
  useLayoutEffect(() => {
    // From the data's arrival to the rows in the DOM with their layout computed (read by the
    // browser test; a frame's paint follows).
    if (page.loading || !performance.getEntriesByName("transactions-data").length) return;
    void document.getElementById("transactions").offsetHeight;
    performance.measure("transactions-render", { start: "transactions-data", detail: { rows: page.items.length } });
    performance.clearMarks("transactions-data");
  }, [page]);
  useLive((name, payload) => {
    if (name === "transaction.created") {
      setFresh((f) => new Set([...f, payload.transaction_id]));
      load();
    } else if (name.startsWith("transaction") || name === "transactions.imported" || name === "valorize:resync") load();
  });

  const replace = (t) => setPage((p) => ({ ...p, items: p.items.map((x) => (x.id === t.id ? t : x)) }));
  const set = (k) => (e) => setFilters({ ...filters, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const apply = (e) => { e.preventDefault(); setApplied({ ...filters }); };
  const clear = () => { const empty = Object.fromEntries(FILTERS.map((k) => [k, k === "uncategorized" ? false : ""])); setFilters(empty); setApplied(empty); };
  return html`
    <h1>Transactions</h1>
    <section class="card"><${NewForms} onDone=${() => load()} /></section>
    <section class="card" aria-label="Filters">
      <form class="row" id="filters" onSubmit=${apply}>
        <label>Search <input id="f-q" value=${filters.q} onInput=${set("q")} /></label>
        <${AccountSelect} id="f-account" value=${filters.account_id} blank="All accounts" onChange=${(v) => setFilters({ ...filters, account_id: v || "" })} />
        <${CategorySelect} id="f-category" value=${filters.category_id} blank="All categories" onChange=${(v) => setFilters({ ...filters, category_id: v || "" })} />
        <label>From <input type="date" value=${filters.date_from} onInput=${set("date_from")} /></label>
        <label>To <input type="date" value=${filters.date_to} onInput=${set("date_to")} /></label>
        <label>Min amount <input id="f-min" size="8" value=${filters.amount_min} onInput=${set("amount_min")} /></label>
        <label>Max amount <input id="f-max" size="8" value=${filters.amount_max} onInput=${set("amount_max")} /></label>
        <label class="inline"><input type="checkbox" checked=${filters.uncategorized} onChange=${set("uncategorized")} /> Uncategorized only</label>
        ${filters.import_id && html`<label>Import <input value=${filters.import_id} onInput=${set("import_id")} size="12" /></label>`}
        <button class="primary">Filter</button><button type="button" onClick=${clear}>Clear</button>
      </form>
    </section>
    <section class="card">
      <${ErrorBox} error=${error} />
      <table id="transactions"><thead><tr><th>Date</th><th>Description</th><th>Account</th><th>Category</th><th class="num">Amount</th></tr></thead>
        <tbody>${page.items.map((t) => html`<${Row} key=${t.id} t=${t} onChanged=${replace} fresh=${fresh.has(t.id)} />`)}</tbody></table>
      ${page.loading && html`<p class="muted" aria-busy="true">Loading…</p>`}
      ${!page.loading && !page.items.length && html`<p class="muted">No transactions match.</p>`}
      ${page.next && !page.loading && html`<button id="more" onClick=${() => load(page.next)}>More</button>`}
    </section>`;
}
