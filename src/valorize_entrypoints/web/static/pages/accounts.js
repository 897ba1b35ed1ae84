// Accounts and categories: open, rename, archive accounts; add and remove categories.
import { html, useState, api, money, sign, useStore, refreshShared, categoryName } from "../app.js";
import { ErrorBox, today } from "./ui.js";

const KINDS = ["checking", "savings", "credit_card", "cash", "investment", "loan"];

export default function Accounts() {
  const s = useStore();
  const [error, setError] = useState(null);
  const run = (fn) => async (e) => {
    if (e && e.preventDefault) e.preventDefault();
    setError(null);
    try { await fn(e); await refreshShared(); if (e && e.target && e.target.reset) e.target.reset(); } catch (err) { setError(err); }
  };
  const addAccount = run(async (e) => {
    const f = new FormData(e.target);
    await api("POST", "/api/accounts", { name: f.get("name"), kind: f.get("kind"), currency: f.get("currency").toUpperCase(),
      opening_balance: f.get("opening_balance") || "0", opened_on: f.get("opened_on") || today() });
  });
  const addCategory = run(async (e) => {
    const f = new FormData(e.target);
    await api("POST", "/api/categories", { name: f.get("name"), kind: f.get("kind"), parent_id: f.get("parent_id") || null });
  });
  return html`<h1>Accounts & categories</h1>
    <${ErrorBox} error=${error} />
    <section class="card"><h2>Accounts</h2>
      <table id="accounts"><thead><tr><th>Name</th><th>Kind</th><th class="num">Balance</th><th></th></tr></thead><tbody>
        ${s.accounts.map((a) => html`<tr key=${a.id}><td>${a.name}</td><td>${a.kind}</td><td class=${"num " + sign(a.balance)}>${money(a.balance)}</td>
          <td><button onClick=${run(() => api("PATCH", `/api/accounts/${a.id}`, { archived: !a.archived }))}>${a.archived ? "Unarchive" : "Archive"}</button></td></tr>`)}
      </tbody></table>
      <form class="row" id="new-account" onSubmit=${addAccount}>
        <label>Name <input name="name" required /></label>
        <label>Kind <select name="kind">${KINDS.map((k) => html`<option value=${k}>${k}</option>`)}</select></label>
        <label>Currency <input name="currency" required defaultValue="BRL" size="4" pattern="[A-Za-z]{3}" /></label>
        <label>Opening balance <input name="opening_balance" defaultValue="0" size="10" /></label>
        <label>Opened on <input name="opened_on" type="date" defaultValue=${today()} /></label>
        <button class="primary">Open account</button>
      </form>
    </section>
    <section class="card"><h2>Categories</h2>
      <ul id="categories">${[...s.categories].sort((a, b) => categoryName(a.id).localeCompare(categoryName(b.id))).map((c) => html`<li key=${c.id}>${categoryName(c.id)} <span class="muted">${c.kind}</span>
        <button class="danger" onClick=${run(() => api("DELETE", `/api/categories/${c.id}`))} aria-label=${`Delete ${c.name}`}>✕</button></li>`)}</ul>
      <form class="row" id="new-category" onSubmit=${addCategory}>
        <label>Name <input name="name" required /></label>
        <label>Kind <select name="kind"><option value="expense">expense</option><option value="income">income</option></select></label>
        <label>Parent <select name="parent_id"><option value="">—</option>${s.categories.filter((c) => !c.parent_id).map((c) => html`<option value=${c.id}>${c.name}</option>`)}</select></label>
        <button class="primary">Add category</button>
      </form>
    </section>`;
}
