// Connects to a Valorize realtime server the way a browser dashboard does — pusher-js under
// Laravel Echo — authorizes the tenant's private channel through the API, and prints one JSON
// line per step on stdout: {"step":"subscribed"}, then {"step":"event","data":{...}} for the
// first transaction.created, then exits. Usage:
//   node listen.mjs <wsHost> <wsPort> <appKey> <apiBaseUrl> <bearerToken> <tenantId>
import Echo from "laravel-echo";
import { exitAfter, key, localPusher, say, tenant } from "./local_pusher.mjs";

exitAfter(30000);
const pusher = localPusher();
pusher.connection.bind("error", (err) => say("connection_error", { error: String(err && err.error && err.error.data && err.error.data.message || err) }));

const echo = new Echo({ broadcaster: "pusher", key, client: pusher });
const channel = echo.private(`tenant.${tenant}`);
channel.error((err) => { say("subscription_error", { error: err }); process.exit(3); });
channel.subscribed(() => say("subscribed", { socket_id: pusher.connection.socket_id }));
channel.listen(".transaction.created", (data) => {
  say("event", { data });
  echo.disconnect();
  process.exit(0);
});

// A second, plain pusher-js subscription: another tenant's channel must be refused by the API.
if (process.env.FOREIGN_TENANT) {
  const foreign = pusher.subscribe(`private-tenant.${process.env.FOREIGN_TENANT}`);
  foreign.bind("pusher:subscription_error", (status) => say("foreign_refused", { status: status && status.status }));
}
