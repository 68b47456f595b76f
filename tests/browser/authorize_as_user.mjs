// Play the user of an authorization URL that someone else built (the conformance suite prints
// one): open it in Debian's Chromium (playwright-core), sign in at the IdP's form as USER when
// it asks, allow on the gateway's consent page, and stop once the browser has loaded the
// client's redirect URI (the suite's callback server answers it).
// Prints one JSON object: the pages it went through and the final URL, or `error`.
// Usage: node authorize_as_user.mjs AUTHORIZE_URL REDIRECT_PREFIX USER
import { chromium } from "playwright-core";

const [authorizeUrl, redirectPrefix, user] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const out = { signedIn: false, consented: false };
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(authorizeUrl);
  // Either the IdP's sign-in form (no session there yet) or the consent page comes first.
  await page.waitForSelector("#login, #allow", { timeout: 30000 });
  if (await page.$("#login")) {
    out.signInUrl = page.url();
    await page.fill("#login", user);
    await Promise.all([page.waitForSelector("#allow", { timeout: 30000 }), page.click("#sign-in")]);
    out.signedIn = true;
  }
  out.consentUrl = page.url();
  out.clientName = await page.textContent("#client-name");
  const done = page.waitForURL((url) => url.href.startsWith(redirectPrefix), { timeout: 30000 });
  await Promise.all([done, page.click("#allow")]);
  out.consented = true;
  out.finalUrl = page.url();
  out.finalText = await page.textContent("body");
} catch (e) {
  out.error = String(e);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
