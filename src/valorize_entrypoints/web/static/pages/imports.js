// Imports: pick a statement, see the suggested column mapping and a preview of the rows it
// reads, upload (202), then watch the import's progress live and its per-row errors.
import { html, useState, useEffect, api, useStore, useLive, accountName } from "../app.js";
import { ErrorBox, AccountSelect } from "./ui.js";

// ---- reading a CSV's head in the browser to suggest a mapping ------------------------------

function splitLine(line, delimiter) {
  const cells = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) { cells.push(cell); cell = ""; } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

const PATTERNS = {
  date_column: /^(date|data|booked|posted|transaction date|dt)/i,
  description_column: /(desc|memo|hist|narrat|details|description)/i,
  amount_column: /^(amount|valor|value|amt)/i,
  debit_column: /(debit|débito|debito|withdraw)/i,
  credit_column: /(credit|crédito|credito|deposit)/i,
  payee_column: /(payee|merchant|favorecido|counterparty)/i,
  external_id_column: /^(id|fitid|reference|ref|transaction id)$/i,
};

export function suggestMapping(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim()).slice(0, 12);
  if (!lines.length) return null;
  const delimiter = [",", ";", "\t", "|"].sort((a, b) => lines[0].split(b).length - lines[0].split(a).length)[0];
  const header = splitLine(lines[0], delimiter);
  const rows = lines.slice(1).map((l) => splitLine(l, delimiter));
  const mapping = { delimiter, has_header: true };
  for (const [key, re] of Object.entries(PATTERNS)) {
    const found = header.find((h) => re.test(h) && !Object.values(mapping).includes(h));
    if (found) mapping[key] = found;
  }
  if (mapping.amount_column) { delete mapping.debit_column; delete mapping.credit_column; }
  const dates = rows.map((r) => r[header.indexOf(mapping.date_column)] || "");
  if (dates.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) mapping.date_format = "%Y-%m-%d";
  else if (dates.every((d) => /^\d{2}\/\d{2}\/\d{4}$/.test(d))) mapping.date_format = dates.some((d) => Number(d.slice(3, 5)) > 12) ? "%m/%d/%Y" : "%d/%m/%Y";
  else if (dates.every((d) => /^\d{2}\.\d{2}\.\d{4}$/.test(d))) mapping.date_format = "%d.%m.%Y";
  else mapping.date_format = "%Y-%m-%d";
  const amounts = rows.map((r) => r[header.indexOf(mapping.amount_column || mapping.debit_column || mapping.credit_column)] || "");
  mapping.decimal_style = amounts.some((a) => /,\d{1,2}$/.test(a)) ? "comma" : "point";
  return { mapping, header, rows: rows.slice(0, 5) };
}

const KEYS = [["date_column", "Date"], ["description_column", "Description"], ["amount_column", "Amount"],
  ["debit_column", "Debit"], ["credit_column", "Credit"], ["payee_column", "Payee"], ["external_id_column", "Id"]];

function MappingEditor({ guess, mapping, setMapping }) {
  const set = (k, v) => { const m = { ...mapping }; if (v === "" || v === null) delete m[k]; else m[k] = v; setMapping(m); };
  const col = (name) => guess.header.indexOf(name);
  const used = KEYS.filter(([k]) => mapping[k]);
  return html`<div>
    <div class="row" id="mapping">
      ${KEYS.map(([k, title]) => html`<label>${title}<select data-key=${k} value=${mapping[k] || ""} onChange=${(e) => set(k, e.target.value)}>
        <option value="">—</option>${guess.header.map((h) => html`<option value=${h}>${h}</option>`)}</select></label>`)}
      <label>Date format <input value=${mapping.date_format} size="9" onInput=${(e) => set("date_format", e.target.value)} /></label>
      <label>Decimals <select value=${mapping.decimal_style} onChange=${(e) => set("decimal_style", e.target.value)}>
        <option value="point">1,234.56</option><option value="comma">1.234,56</option></select></label>
      <label class="inline"><input type="checkbox" checked=${!!mapping.invert_sign} onChange=${(e) => set("invert_sign", e.target.checked || null)} /> Invert signs</label>
    </div>
    <h3 class="muted">Preview (first rows as mapped)</h3>
    <table id="mapping-preview"><thead><tr>${used.map(([, t]) => html`<th>${t}</th>`)}</tr></thead>
      <tbody>${guess.rows.map((r) => html`<tr>${used.map(([k]) => html`<td>${r[col(mapping[k])] ?? ""}</td>`)}</tr>`)}</tbody></table></div>`;
}

function Progress({ id, onDone }) {
  const [imp, setImp] = useState(null);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const refresh = () => api("GET", `/api/imports/${id}`).then(setImp, setError);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 1500); // besides live events: a missed event still ends
    return () => clearInterval(timer);
  }, [id]);
  useLive((name, p) => {
    if (p.import_id !== id) return;
    if (name === "import.progressed") setProgress(p);
    if (name === "import.completed" || name === "transactions.imported") refresh();
  });
  const finished = imp && imp.status !== "pending" && imp.status !== "running";
  useEffect(() => { if (finished) onDone && onDone(imp); }, [finished]);
  if (!imp) return html`<${ErrorBox} error=${error} />`;
  const total = (progress && progress.total) || imp.total_rows || 0;
  const processed = finished ? total : (progress ? progress.processed : 0);
  const pct = total ? Math.round((100 * processed) / total) : finished ? 100 : 0;
  return html`<section class="card" id=${`import-${id}`} data-status=${imp.status}>
    <h2>${imp.filename} <span class="muted">→ ${accountName(imp.account_id)}</span></h2>
    <div class="progress" role="progressbar" aria-label="Import progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct}><span style=${{ width: `${pct}%` }}></span></div>
    <p role="status" class="import-status">Status: <strong>${imp.status}</strong> · ${processed}/${total || "?"} rows · imported ${imp.imported} · duplicates ${imp.duplicates} · updated ${imp.updated} · errors ${imp.errors.length}</p>
    ${imp.errors.length > 0 && html`<table class="import-errors"><thead><tr><th>Line</th><th>Error</th></tr></thead><tbody>
      ${imp.errors.slice(0, 200).map((e) => html`<tr><td>${e.line ?? e.row ?? ""}</td><td>${e.message || e.error || JSON.stringify(e)}</td></tr>`)}</tbody></table>`}
    ${finished && html`<a href=${`#/transactions?import_id=${id}`}>See its transactions</a>`}
  </section>`;
}

export default function Imports() {
  const s = useStore();
  const [account, setAccount] = useState(null);
  const [file, setFile] = useState(null);
  const [format, setFormat] = useState("csv");
  const [guess, setGuess] = useState(null);
  const [mapping, setMapping] = useState(null);
  const [skip, setSkip] = useState(false);
  const [error, setError] = useState(null);
  const [started, setStarted] = useState([]);
  const pick = async (e) => {
    const f = e.target.files[0];
    setFile(f || null);
    setGuess(null);
    if (!f) return;
    const isOfx = /\.(ofx|qfx)$/i.test(f.name);
    setFormat(isOfx ? "ofx" : "csv");
    if (!isOfx) {
      const g = suggestMapping(await f.slice(0, 64 * 1024).text());
      setGuess(g);
      setMapping(g && g.mapping);
    }
  };
  const upload = async (e) => {
    e.preventDefault();
    setError(null);
    const body = new FormData();
    body.set("file", file);
    body.set("account_id", account || (s.accounts[0] && s.accounts[0].id));
    body.set("format", format);
    if (format === "csv" && mapping) body.set("mapping", JSON.stringify(mapping));
    body.set("skip_invalid_rows", skip ? "true" : "false");
    try {
      const pending = await api("POST", "/api/imports", body, { form: true });
      setStarted([pending.id, ...started]);
    } catch (err) { setError(err); }
  };
  if (!s.accounts.length) return html`<h1>Imports</h1><p class="muted">Open an account first (<a href="#/accounts">Accounts & categories</a>).</p>`;
  return html`
    <h1>Imports</h1>
    <section class="card">
      <form id="upload" onSubmit=${upload}>
        <div class="row">
          <${AccountSelect} id="import-account" value=${account} onChange=${setAccount} />
          <label>Statement (CSV or OFX) <input id="import-file" type="file" accept=".csv,.txt,.ofx,.qfx" required onChange=${pick} /></label>
          <label class="inline"><input id="skip-invalid" type="checkbox" checked=${skip} onChange=${(e) => setSkip(e.target.checked)} /> Skip invalid rows</label>
          <button class="primary" id="import-submit" disabled=${!file}>Import</button>
        </div>
        ${guess && html`<h2>Column mapping (suggested)</h2><${MappingEditor} guess=${guess} mapping=${mapping} setMapping=${setMapping} />`}
      </form>
      <${ErrorBox} error=${error} />
    </section>
    ${started.map((id) => html`<${Progress} key=${id} id=${id} />`)}`;
}
