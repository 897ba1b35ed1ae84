// The Pusher Channels features beyond channel subscriptions, driven through pusher-js as a
// browser app uses them: user sign-in (and its #server-to-user channel), cache channels,
// an encrypted channel (pusher-js decrypts with the shared_secret the API hands out), a
// presence channel, the watchlist's online/offline events, and being terminated by the server. Prints one JSON line per step.
//   node features.mjs <wsHost> <wsPort> <appKey> <apiBaseUrl> <bearerToken> <tenantId>
import { exitAfter, localPusher, say, tenant } from "./local_pusher.mjs";

exitAfter(60000);
const pusher = localPusher();

pusher.connection.bind("message", (ev) => {
  if (ev.event === "pusher:signin_success") say("signed_in", { user: JSON.parse(ev.data.user_data) });
  if (ev.event === "pusher_internal:subscription_succeeded") say("subscribed", { channel: ev.channel });
  if (ev.event === "pusher:error") say("pusher_error", { code: ev.data && ev.data.code });
});
pusher.connection.bind("state_change", (s) => say("state", { current: s.current }));
pusher.signin();
pusher.user.bind("notice", (data) => say("user_event", { data }));
pusher.user.watchlist.bind("online", (e) => say("watch_online", { ids: e.user_ids }));
pusher.user.watchlist.bind("offline", (e) => say("watch_offline", { ids: e.user_ids }));

const rates = pusher.subscribe("cache-rates");
rates.bind("rate", (data) => say("cache_event", { data }));
rates.bind("pusher:cache_miss", () => say("cache_miss", { channel: "cache-rates" }));
const empty = pusher.subscribe("cache-empty");
empty.bind("pusher:cache_miss", () => say("cache_miss", { channel: "cache-empty" }));

const secret = pusher.subscribe(`private-encrypted-tenant.${tenant}`);
secret.bind("secret", (data) => say("decrypted", { data }));
secret.bind("pusher:subscription_error", (e) => say("subscription_error", { error: e }));

pusher.subscribe(`presence-tenant.${tenant}`);
