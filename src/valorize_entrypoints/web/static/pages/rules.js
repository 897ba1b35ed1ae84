// Rules: an editor for nested all/any groups (each condition and group negatable) with a live
// preview over the stored transactions, the saved rules, and rule suggestions to accept or
// dismiss.
import { html, useState, useEffect, useRef, api, money, store, useStore, useLive, accountName, categoryName } from "../app.js";
import { ErrorBox, CategorySelect, useLoad } from "./ui.js";

const OPERATORS = {
  description: ["contains", "equals", "starts_with", "ends_with", "regex", "one_of"],
  payee: ["contains", "equals", "starts_with", "ends_with", "regex", "one_of"],
  amount: ["equals", "greater", "less", "between", "one_of"],
  account: ["equals", "one_of"],
  date: ["equals", "greater", "less", "between"],
};
const leaf = () => ({ field: "description", operator: "contains", value: "", negate: false });
const group = (match = "all") => ({ match, negate: false, conditions: [leaf()] });

// The editor keeps values as the text typed; toWire turns them into the API's values.
function wireValue(c) {
  const currency = (store.accounts[0] && store.accounts[0].currency) || "BRL";
  const one = (v) => (c.field === "amount" ? { amount: v.trim(), currency: c.currency || currency } : v.trim());
  if (c.operator === "one_of") return String(c.value).split(",").map((v) => one(v)).filter((v) => (v.amount ?? v) !== "");
  if (c.operator === "between") return [one(c.value), one(c.high || "")];
  return c.field === "amount" || c.field === "date" || c.field === "account" ? one(String(c.value)) : c.value;
}
export function toWire(node) {
  if (node.conditions) return { match: node.match, negate: node.negate, conditions: node.conditions.map(toWire) };
  return { field: node.field, operator: node.operator, value: wireValue(node), negate: node.negate };
}
function describe(node) {
  if (node.conditions) return `${node.negate ? "NOT " : ""}${node.match}(${node.conditions.map(describe).join(", ")})`;
  const v = Array.isArray(node.value) ? node.value.map((x) => x.amount ?? x).join("…") : node.value && node.value.amount ? node.value.amount : node.field === "account" ? accountName(node.value) : node.value;
  return `${node.negate ? "not " : ""}${node.field} ${node.operator} ${v}`;
}

function Leaf({ c, set, remove, path }) {
  const upd = (k) => (e) => set({ ...c, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const field = (e) => set({ ...c, field: e.target.value, operator: OPERATORS[e.target.value][0], value: e.target.value === "account" ? (store.accounts[0] || {}).id || "" : "" });
  return html`<div class="cond" data-path=${path}>
    <select aria-label="Field" value=${c.field} onChange=${field}>${Object.keys(OPERATORS).map((f) => html`<option value=${f}>${f}</option>`)}</select>
    <select aria-label="Operator" value=${c.operator} onChange=${upd("operator")}>${OPERATORS[c.field].map((o) => html`<option value=${o}>${o}</option>`)}</select>
    ${c.field === "account" && c.operator === "equals"
      ? html`<select aria-label="Account" value=${c.value} onChange=${upd("value")}>${store.accounts.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select>`
      : html`<input aria-label=${c.operator === "between" ? "From" : "Value"} value=${c.value} type=${c.field === "date" ? "date" : "text"}
          placeholder=${c.operator === "one_of" ? "a, b, c" : c.field === "amount" ? "-10.00" : ""} onInput=${upd("value")} />`}
    ${c.operator === "between" && html`<input aria-label="To" value=${c.high || ""} type=${c.field === "date" ? "date" : "text"} onInput=${upd("high")} />`}
    <label class="inline"><input type="checkbox" checked=${c.negate} onChange=${upd("negate")} /> not</label>
    <button type="button" onClick=${remove} aria-label="Remove condition">✕</button></div>`;
}

function Group({ g, set, remove, depth = 0, path = "g" }) {
  const child = (i) => (v) => set({ ...g, conditions: g.conditions.map((x, j) => (j === i ? v : x)) });
  const drop = (i) => () => set({ ...g, conditions: g.conditions.filter((_, j) => j !== i) });
  return html`<div class="group" data-group=${path} role="group" aria-label=${`Group ${path}`}>
    <div class="row">
      <label>Match <select class="match" value=${g.match} onChange=${(e) => set({ ...g, match: e.target.value })}>
        <option value="all">all of (and)</option><option value="any">any of (or)</option></select></label>
      <label class="inline"><input type="checkbox" checked=${g.negate} onChange=${(e) => set({ ...g, negate: e.target.checked })} /> not</label>
      <button type="button" class="add-condition" onClick=${() => set({ ...g, conditions: [...g.conditions, leaf()] })}>+ condition</button>
      ${depth < 4 && html`<button type="button" class="add-group" onClick=${() => set({ ...g, conditions: [...g.conditions, group(g.match === "all" ? "any" : "all")] })}>+ group</button>`}
      ${remove && html`<button type="button" onClick=${remove} aria-label="Remove group">✕ group</button>`}
    </div>
    ${g.conditions.map((c, i) => (c.conditions
      ? html`<${Group} g=${c} set=${child(i)} remove=${drop(i)} depth=${depth + 1} path=${`${path}.${i}`} />`
      : html`<${Leaf} c=${c} set=${child(i)} remove=${drop(i)} path=${`${path}.${i}`} />`))}
  </div>`;
}

function Preview({ body }) {
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const seq = useRef(0);
  const text = JSON.stringify(body);
  useEffect(() => {
    if (!body) { setResult(null); return; }
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      api("POST", "/api/rules/preview?limit=25", body).then(
        (r) => mine === seq.current && (setResult(r), setError(null)),
        (e) => mine === seq.current && (setError(e), setResult(null)));
    }, 300);
    return () => clearTimeout(timer);
  }, [text]);
  if (!body) return html`<p class="muted">Choose the category the rule sets to see what it would change.</p>`;
  return html`<div id="rule-preview" aria-live="polite">
    <${ErrorBox} error=${error} />
    ${result && html`<p><strong data-total=${result.total}>${result.total}</strong> matching transaction${result.total === 1 ? "" : "s"}${result.total > result.items.length ? ` (first ${result.items.length} shown)` : ""}</p>
    <table><thead><tr><th>Date</th><th>Description</th><th class="num">Amount</th><th>Before → after</th><th>Why</th></tr></thead><tbody>
      ${result.items.map((m) => html`<tr><td>${m.transaction.booked_on}</td><td>${m.transaction.description}</td><td class="num">${money(m.transaction.amount)}</td>
        <td>${categoryName(m.transaction.splits[0] && m.transaction.splits[0].category_id)} → ${categoryName(m.after.splits[0] && m.after.splits[0].category_id)}</td>
        <td class="why">${m.reasons.join("; ")}${m.skipped.length ? ` · skipped: ${m.skipped.join("; ")}` : ""}</td></tr>`)}</tbody></table>`}
  </div>`;
}

function Editor({ onSaved }) {
  const [name, setName] = useState("");
  const [tree, setTree] = useState(group("all"));
  const [category, setCategory] = useState(null);
  const [stop, setStop] = useState(false);
  const [error, setError] = useState(null);
  const body = category ? { name: name || "Preview", conditions: toWire(tree), actions: [{ type: "set_category", category_id: category }], stop_processing: stop } : null;
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api("POST", "/api/rules", { ...body, name });
      setName(""); setTree(group("all")); onSaved();
    } catch (err) { setError(err); }
  };
  return html`<section class="card" aria-labelledby="h-editor"><h2 id="h-editor">New rule</h2>
    <form id="rule-editor" onSubmit=${save}>
      <div class="row"><label>Name <input id="rule-name" required value=${name} onInput=${(e) => setName(e.target.value)} /></label>
        <${CategorySelect} id="rule-category" label="Then set category" blank="Choose…" value=${category} onChange=${setCategory} />
        <label class="inline"><input type="checkbox" checked=${stop} onChange=${(e) => setStop(e.target.checked)} /> stop after this rule</label></div>
      <${Group} g=${tree} set=${setTree} />
      <button class="primary" disabled=${!body || !name}>Save rule</button>
      <${ErrorBox} error=${error} />
    </form>
    <h2>Live preview</h2>
    <${Preview} body=${body} />
  </section>`;
}

export default function Rules() {
  useStore();
  const [rules, errRules, reloadRules] = useLoad(() => api("GET", "/api/rules"));
  const [suggestions, errSug, reloadSug] = useLoad(() => api("GET", "/api/rules/suggestions?status=pending"));
  const [message, setMessage] = useState(null);
  const [error, setError] = useState(null);
  useLive((name) => { if (name === "transaction.categorized" || name === "job.completed") reloadSug(); });
  const act = (fn) => async () => { setError(null); try { setMessage(await fn()); reloadRules(); reloadSug(); } catch (e) { setError(e); } };
  return html`<h1>Rules</h1>
    <${Editor} onSaved=${reloadRules} />
    <section class="card"><h2>Rules, in the order they run</h2>
      <${ErrorBox} error=${errRules || error} />${message && html`<p class="muted" role="status">${message}</p>`}
      <table id="rules"><tbody>${(rules || []).map((r) => html`<tr key=${r.id}><td>${r.position}</td><td><strong>${r.name}</strong>${!r.enabled && " (off)"}
          <div class="why">${describe(r.conditions)} → ${r.actions.map((a) => (a.type === "set_category" ? categoryName(a.category_id) : a.type)).join(", ")}</div></td>
        <td><button onClick=${act(async () => { const j = await api("POST", "/api/rules/apply", { rule_ids: [r.id] }); return `Applying ${r.name} (job ${j.id.slice(0, 8)})`; })}>Apply to existing</button>
          <button class="danger" onClick=${act(async () => { await api("DELETE", `/api/rules/${r.id}`); return `Deleted ${r.name}`; })}>Delete</button></td></tr>`)}</tbody></table>
      ${rules && !rules.length && html`<p class="muted">No rules yet.</p>`}
    </section>
    <section class="card"><h2>Suggested from your corrections</h2>
      <${ErrorBox} error=${errSug} />
      <table id="suggestions"><tbody>${(suggestions || []).map((sg) => html`<tr key=${sg.id}><td>${sg.payee} → ${categoryName(sg.category_id)}<div class="why">${sg.reason} (${sg.agreeing}/${sg.total})</div></td>
        <td><button onClick=${act(async () => { await api("POST", `/api/rules/suggestions/${sg.id}/accept`); return "Rule created"; })}>Accept</button>
          <button onClick=${act(async () => { await api("POST", `/api/rules/suggestions/${sg.id}/dismiss`); return "Dismissed"; })}>Dismiss</button></td></tr>`)}</tbody></table>
      ${suggestions && !suggestions.length && html`<p class="muted">No suggestions right now.</p>`}
    </section>`;
}
