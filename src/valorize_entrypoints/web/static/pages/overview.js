// Overview: balances per account and in total, this month against budgets, the latest
// transactions and the notifications — all refreshed by live events.
import { html, api, money, sign, sumMoney, useStore, useLive, accountName, categoryName } from "../app.js";
import { ErrorBox, useLoad, today } from "./ui.js";

export function BudgetBars({ statuses, budgets }) {
  if (!statuses || !statuses.length) return html`<p class="muted">No budgets yet: add one under Budgets.</p>`;
  return html`<table><thead><tr><th>Category</th><th class="num">Spent</th><th class="num">Available</th><th>Used</th></tr></thead><tbody>
    ${statuses.map((st) => {
      const b = (budgets || []).find((x) => x.id === st.budget_id) || {};
      const pct = st.percent === null ? 0 : Number(st.percent);
      return html`<tr><td>${categoryName(b.category_id)}</td><td class="num">${money(st.spent)}</td>
        <td class="num">${money(st.available)}</td>
        <td><div class=${"bar" + (pct > 100 ? " over" : "")} role="img" aria-label=${`${st.percent ?? 0}% used`}><span style=${{ width: `${Math.min(pct, 100)}%` }}></span></div>
        <span class="muted">${st.percent ?? "—"}%</span></td></tr>`;
    })}</tbody></table>`;
}

export default function Overview() {
  const s = useStore();
  const [latest, errLatest, reloadLatest] = useLoad(() => api("GET", "/api/transactions?limit=10"));
  const [statuses, errBudgets, reloadBudgets] = useLoad(() => Promise.all([api("GET", `/api/budgets/status?day=${today()}`), api("GET", "/api/budgets")]));
  const [notes, errNotes, reloadNotes] = useLoad(() => api("GET", "/api/notifications?limit=10"));
  useLive((name) => {
    if (name.startsWith("transaction") || name === "valorize:resync") { reloadLatest(); reloadBudgets(); }
    if (name.startsWith("budget") || name === "notification.created" || name === "valorize:resync") { reloadBudgets(); reloadNotes(); }
  });
  const totals = sumMoney(s.accounts.filter((a) => !a.archived).map((a) => a.balance));
  const markRead = async (id) => { await api("POST", `/api/notifications/${id}/read`); reloadNotes(); };
  return html`
    <h1>Overview</h1>
    <div class="grid">
      <section class="card" aria-labelledby="h-balances">
        <h2 id="h-balances">Balances</h2>
        <table id="balances"><tbody>
          ${s.accounts.map((a) => html`<tr><td>${a.name}<div class="muted">${a.kind}</div></td><td class=${"num " + sign(a.balance)}>${money(a.balance)}</td></tr>`)}
          ${totals.map((t) => html`<tr><th>Total ${t.currency}</th><th class=${"num " + sign(t)} data-total=${t.currency}>${money(t)}</th></tr>`)}
        </tbody></table>
        ${!s.accounts.length && html`<p class="muted">No accounts yet: <a href="#/accounts">open one</a>.</p>`}
      </section>
      <section class="card" aria-labelledby="h-month">
        <h2 id="h-month">This month against budgets</h2>
        <${ErrorBox} error=${errBudgets} />
        ${statuses && html`<${BudgetBars} statuses=${statuses[0]} budgets=${statuses[1]} />`}
      </section>
      <section class="card" aria-labelledby="h-latest">
        <h2 id="h-latest">Latest transactions</h2>
        <${ErrorBox} error=${errLatest} />
        <table id="latest"><tbody>
          ${(latest ? latest.items : []).map((t) => html`<tr key=${t.id}><td>${t.booked_on}</td><td>${t.description}<div class="muted">${accountName(t.account_id)} · ${categoryName(t.splits[0] && t.splits[0].category_id)}</div></td>
            <td class=${"num " + sign(t.amount)}>${money(t.amount)}</td></tr>`)}
        </tbody></table>
        <a href="#/transactions">All transactions</a>
      </section>
      <section class="card" aria-labelledby="h-notes">
        <h2 id="h-notes">Notifications</h2>
        <${ErrorBox} error=${errNotes} />
        <ul id="notifications">
          ${(notes || []).map((n) => html`<li key=${n.id}><strong>${n.title}</strong> <span class="muted">${n.created_at.slice(0, 16).replace("T", " ")}</span><div>${n.body}</div>
            ${!n.read_at && html`<button onClick=${() => markRead(n.id)}>Mark read</button>`}</li>`)}
        </ul>
        ${notes && !notes.length && html`<p class="muted">Nothing new.</p>`}
      </section>
    </div>`;
}
