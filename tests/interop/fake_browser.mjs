// The "browser" of the real-client tests (tests/clis.rs): a client opens it with its
// authorization URL (as `xdg-open URL` or `$BROWSER URL`); it logs in to Keycloak's form as the
// test user, as a person would, and requests the redirect — the client's own loopback callback —
// so the client's listener receives the code. Each step goes as one JSON line to the log file.
//
//   node fake_browser.mjs <log file> <username> <password> <authorization url>
import { appendFileSync } from "node:fs";
import { headlessLogin } from "./headless_login.mjs";

const [logFile, username, password, url] = process.argv.slice(2);
const log = (entry) => appendFileSync(logFile, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);

log({ opened: url });
try {
  const redirectUri = new URL(url).searchParams.get("redirect_uri");
  if (!redirectUri) throw new Error("the URL has no redirect_uri: not an authorization request");
  const params = await headlessLogin(url, { redirectUri, username, password });
  const callback = new URL(redirectUri);
  for (const [name, value] of params) callback.searchParams.set(name, value);
  const response = await fetch(callback, { redirect: "manual" });
  log({ callback: callback.href, status: response.status, body: (await response.text()).slice(0, 300) });
} catch (error) {
  log({ error: String(error?.stack ?? error) });
  process.exit(1);
}
