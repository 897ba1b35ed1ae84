// Reports: spend by category per month, cash flow and net worth over time, as charts and tables.
import { html, useState, api, money, useLive, categoryName } from "../app.js";
import { ErrorBox, useLoad, today } from "./ui.js";
import { Chart, seconds } from "./charts.js";

const yearAgo = () => { const d = new Date(); d.setUTCFullYear(d.getUTCFullYear() - 1); d.setUTCDate(1); return d.toISOString().slice(0, 10); };
const num = (m) => (m ? Number(m.amount) : 0); // chart coordinates only
// Report rows carry category_id; names and converted totals may come with them (read defensively).
export const rowCategory = (r) => r.category_name || (r.category && r.category.name) || categoryName(r.category_id);
const amountOf = (r, key) => r[`${key}_converted`] || r[key];

export function spendSeries(rows, only = null, top = 6) {
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const totals = new Map();
  for (const r of rows) {
    if (only && !only.includes(r.category_id)) continue;
    const key = rowCategory(r);
    if (!totals.has(key)) totals.set(key, new Map());
    totals.get(key).set(r.month, (totals.get(key).get(r.month) || 0) + Math.abs(num(amountOf(r, "spent"))));
  }
  const ranked = [...totals].map(([label, byMonth]) => ({ label, byMonth, sum: [...byMonth.values()].reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.sum - a.sum).slice(0, top);
  return { x: months.map(seconds), series: ranked.map((r) => ({ label: r.label, values: months.map((m) => r.byMonth.get(m) || 0) })) };
}

export default function Reports() {
  const [range, setRange] = useState({ start: yearAgo(), end: today() });
  const q = `?start=${range.start}&end=${range.end}`;
  const [data, error, reload] = useLoad(() => Promise.all(["spend_by_category", "cash_flow", "net_worth"].map((k) => api("GET", `/api/reports/${k}${q}`))), [q]);
  useLive((name) => { if (name.startsWith("transaction") || name === "transactions.imported") reload(); });
  const [spend, flow, worth] = data ? data.map((r) => r.rows) : [[], [], []];
  const s = spendSeries(spend);
  return html`<h1>Reports</h1>
    <section class="card"><form class="row" onSubmit=${(e) => { e.preventDefault(); const f = new FormData(e.target); setRange({ start: f.get("start"), end: f.get("end") }); }}>
      <label>From <input type="date" name="start" value=${range.start} /></label><label>To <input type="date" name="end" value=${range.end} /></label>
      <button class="primary">Show</button></form><${ErrorBox} error=${error} /></section>
    ${data && html`<div>
      <section class="card"><h2>Spending by category per month</h2><${Chart} id="chart-spend" title="Spending by category" monthly x=${s.x} series=${s.series} /></section>
      <section class="card"><h2>Cash flow</h2><${Chart} id="chart-flow" title="Cash flow" monthly x=${flow.map((r) => seconds(r.month))}
        series=${[{ label: "in", values: flow.map((r) => num(r.inflow)) }, { label: "out", values: flow.map((r) => -Math.abs(num(r.outflow))) }, { label: "net", values: flow.map((r) => num(r.net)) }]} />
        <table><thead><tr><th>Month</th><th class="num">In</th><th class="num">Out</th><th class="num">Net</th></tr></thead><tbody>
          ${flow.map((r) => html`<tr><td>${r.month.slice(0, 7)}</td><td class="num">${money(r.inflow)}</td><td class="num">${money(r.outflow)}</td><td class="num">${money(r.net)}</td></tr>`)}</tbody></table></section>
      <section class="card"><h2>Net worth</h2><${Chart} id="chart-worth" title="Net worth" x=${worth.map((r) => seconds(r.as_of))} series=${[{ label: "net worth", values: worth.map((r) => num(amountOf(r, "net_worth"))) }]} /></section>
    </div>`}`;
}
