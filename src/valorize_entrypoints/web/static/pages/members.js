// Members and tokens (owners): invite, change roles, remove; create and revoke API tokens.
import { html, useState, api, store } from "../app.js";
import { ErrorBox, useLoad } from "./ui.js";

const ROLES = ["owner", "member", "viewer"];

export default function Members() {
  const [data, error, reload] = useLoad(() => Promise.all([api("GET", "/api/members"), api("GET", "/api/tokens")]));
  const [secret, setSecret] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [members, tokens] = data || [[], []];
  const run = (fn) => async (e) => {
    if (e && e.preventDefault) e.preventDefault();
    setActionError(null);
    try { const r = await fn(e); if (r && r.token) setSecret(r.token); if (e && e.target && e.target.reset) e.target.reset(); reload(); } catch (err) { setActionError(err); }
  };
  const who = (id) => (members.find((m) => m.user_id === id) || {}).name || id.slice(0, 8);
  return html`<h1>Members & tokens</h1><${ErrorBox} error=${error || actionError} />
    ${secret && html`<div class="notice" role="status">New token (shown once — copy it now): <code id="new-secret">${secret}</code> <button onClick=${() => setSecret(null)}>Done</button></div>`}
    <section class="card"><h2>Members</h2>
      <table id="members"><thead><tr><th>Name</th><th>Email</th><th>Role</th><th></th></tr></thead><tbody>
        ${members.map((m) => html`<tr key=${m.user_id}><td>${m.name}</td><td>${m.email}</td>
          <td><select aria-label=${`Role of ${m.name}`} value=${m.role} onChange=${run((e) => api("PATCH", `/api/members/${m.user_id}`, { role: e.target.value }))}>
            ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select></td>
          <td>${m.user_id !== store.me.user_id && html`<button class="danger" onClick=${run(() => api("DELETE", `/api/members/${m.user_id}`))}>Remove</button>`}</td></tr>`)}
      </tbody></table>
      <form class="row" id="invite" onSubmit=${run((e) => { const f = new FormData(e.target); return api("POST", "/api/members", { email: f.get("email"), name: f.get("name"), role: f.get("role") }); })}>
        <label>Name <input name="name" required /></label><label>Email <input name="email" type="email" required /></label>
        <label>Role <select name="role">${ROLES.map((r) => html`<option value=${r} selected=${r === "member"}>${r}</option>`)}</select></label>
        <button class="primary">Invite</button></form>
    </section>
    <section class="card"><h2>API tokens</h2>
      <table id="tokens"><thead><tr><th>Name</th><th>Whose</th><th>Role</th><th>Ends in</th><th></th></tr></thead><tbody>
        ${tokens.map((t) => html`<tr key=${t.id}><td>${t.name}</td><td>${who(t.user_id)}</td><td>${t.role}</td><td>…${t.last_four}</td>
          <td>${t.revoked_at ? html`<span class="muted">revoked</span>` : t.id !== store.me.token_id && html`<button class="danger" onClick=${run(() => api("POST", `/api/tokens/${t.id}/revoke`))}>Revoke</button>`}</td></tr>`)}
      </tbody></table>
      <form class="row" id="new-token" onSubmit=${run((e) => { const f = new FormData(e.target); return api("POST", "/api/tokens", { name: f.get("name"), role: f.get("role") }); })}>
        <label>Name <input name="name" required /></label>
        <label>Role <select name="role">${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select></label>
        <button class="primary">Create token</button></form>
    </section>`;
}
