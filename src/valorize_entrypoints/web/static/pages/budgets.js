// Budgets: this period's status per budget, a chart of spending in the budgeted categories, and
// creating or deleting budgets.
import { html, useState, api, store, useStore, useLive, categoryName } from "../app.js";
import { ErrorBox, CategorySelect, useLoad, today } from "./ui.js";
import { BudgetBars } from "./overview.js";
import { Chart } from "./charts.js";
import { spendSeries } from "./reports.js";

const halfYearAgo = () => { const d = new Date(); d.setUTCMonth(d.getUTCMonth() - 5); d.setUTCDate(1); return d.toISOString().slice(0, 10); };

export default function Budgets() {
  useStore();
  const [data, error, reload] = useLoad(() => Promise.all([api("GET", "/api/budgets"), api("GET", `/api/budgets/status?day=${today()}`),
    api("GET", `/api/reports/spend_by_category?start=${halfYearAgo()}&end=${today()}`)]));
  const [category, setCategory] = useState(null);
  const [formError, setFormError] = useState(null);
  useLive((name) => { if (name.startsWith("transaction") || name.startsWith("budget")) reload(); });
  const [budgets, statuses, spend] = data || [[], [], { rows: [] }];
  const create = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setFormError(null);
    try {
      await api("POST", "/api/budgets", { category_id: category, limit: f.get("limit"), currency: f.get("currency").toUpperCase(),
        period: f.get("period"), rollover: f.get("rollover") });
      e.target.reset(); reload();
    } catch (err) { setFormError(err); }
  };
  const chart = spendSeries(spend.rows, budgets.map((b) => b.category_id));
  return html`<h1>Budgets</h1><${ErrorBox} error=${error} />
    <div class="grid">
      <section class="card"><h2>This period</h2><${BudgetBars} statuses=${statuses} budgets=${budgets} /></section>
      <section class="card"><h2>Spending in budgeted categories</h2><${Chart} id="chart-budgets" title="Monthly spending, budgeted categories" monthly x=${chart.x} series=${chart.series} /></section>
    </div>
    <section class="card"><h2>Budgets</h2>
      <table id="budgets"><tbody>${budgets.map((b) => html`<tr key=${b.id}><td>${categoryName(b.category_id)}</td><td>${b.limit.amount} ${b.limit.currency} per ${b.period}</td><td>${b.rollover}</td>
        <td><button class="danger" onClick=${async () => { await api("DELETE", `/api/budgets/${b.id}`); reload(); }}>Delete</button></td></tr>`)}</tbody></table>
      <form class="row" id="new-budget" onSubmit=${create}>
        <${CategorySelect} label="Category" blank="Choose…" value=${category} onChange=${setCategory} />
        <label>Limit <input name="limit" required placeholder="500.00" size="10" /></label>
        <label>Currency <input name="currency" required size="4" defaultValue=${(store.accounts[0] && store.accounts[0].currency) || "BRL"} /></label>
        <label>Period <select name="period"><option value="month">month</option><option value="week">week</option><option value="year">year</option></select></label>
        <label>Rollover <select name="rollover"><option value="reset">reset</option><option value="carry_unspent">carry_unspent</option><option value="carry_unspent_and_overspent">carry_unspent_and_overspent</option></select></label>
        <button class="primary" disabled=${!category}>Add budget</button></form>
      <${ErrorBox} error=${formError} />
    </section>`;
}
