// What the scripts share: their arguments, one JSON line per step on stdout, a deadline, and a
// pusher-js client of the local realtime server configured as the browser app configures it
// (WebSocket only, channels and the user authorized by the API with the bearer token).
//   node <script>.mjs <wsHost> <wsPort> <appKey> <apiBaseUrl> <bearerToken> <tenantId>
import Pusher from "pusher-js";

export const [wsHost, wsPort, key, api, token, tenant] = process.argv.slice(2);

export const say = (step, extra = {}) => process.stdout.write(JSON.stringify({ step, ...extra }) + "\n");

// Says "timeout" and exits 2 if the script is still running after `ms`.
export const exitAfter = (ms) => setTimeout(() => { say("timeout"); process.exit(2); }, ms);

export function localPusher() {
  const auth = { transport: "ajax", headers: { Authorization: `Bearer ${token}` } };
  return new Pusher(key, {
    cluster: "local",
    wsHost,
    wsPort: Number(wsPort),
    forceTLS: false,
    enabledTransports: ["ws"],
    channelAuthorization: { ...auth, endpoint: `${api}/broadcasting/auth` },
    userAuthentication: { ...auth, endpoint: `${api}/broadcasting/user-auth` },
  });
}
