// Small shared pieces of the pages: errors, selects of accounts and categories, async state.
import { html, useState, useEffect, store, categoryName } from "../app.js";

export function ErrorBox({ error }) {
  return error ? html`<div class="error" role="alert">${String(error.message || error)}</div>` : null;
}

export function CategorySelect({ value, onChange, label = "Category", id, blank = "Uncategorized", hideLabel = false }) {
  const options = [...store.categories].sort((a, b) => categoryName(a.id).localeCompare(categoryName(b.id)));
  const select = html`<select id=${id} aria-label=${hideLabel ? label : undefined} value=${value || ""} onChange=${(e) => onChange(e.target.value || null)}>
      <option value="">${blank}</option>
      ${options.map((c) => html`<option value=${c.id}>${categoryName(c.id)}</option>`)}
    </select>`;
  return hideLabel ? select : html`<label>${label} ${select}</label>`;
}

export function AccountSelect({ value, onChange, label = "Account", id, blank = null, name }) {
  return html`<label>${label}
    <select id=${id} name=${name} value=${value || (blank !== null ? "" : undefined)} onChange=${(e) => onChange && onChange(e.target.value || null)}>
      ${blank !== null && html`<option value="">${blank}</option>`}
      ${store.accounts.map((a) => html`<option value=${a.id}>${a.name} (${a.currency})</option>`)}
    </select></label>`;
}

/** ``[data, error, reload]`` of an async loader, reloaded when ``deps`` change. */
export function useLoad(loader, deps = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    loader().then((data) => alive && setState({ data, error: null }), (error) => alive && setState((s) => ({ data: s.data, error })));
    return () => { alive = false; };
  }, [...deps, tick]);
  return [state.data, state.error, () => setTick((t) => t + 1)];
}

export const today = () => new Date().toISOString().slice(0, 10);
export const monthStart = (d = new Date()) => new Date(Date.UTC(d.getFullYear(), d.getMonth(), 1)).toISOString().slice(0, 10);
