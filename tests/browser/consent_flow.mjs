// Drive the gateway's authorization flow in Debian's Chromium (playwright-core): /authorize,
// sign-in at the IdP, the consent page, the third party, and the redirect back to the client.
// Also loads the consent page inside a cross-origin <iframe> to show it refuses framing.
// Prints one JSON object with what the browser saw. The client's redirect URI must be served
// (any path, a page with an empty <iframe id=f>): the test runs a small server there.
// Usage: node consent_flow.mjs AUTHORIZE_URL REDIRECT_PREFIX
import { chromium } from "playwright-core";

const [authorizeUrl, redirectPrefix] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const out = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authorizeUrl);
  await page.waitForSelector("#allow", { timeout: 30000 });
  out.consentUrl = page.url();
  out.clientName = await page.textContent("#client-name");
  out.cookiesBeforeConsent = (await context.cookies()).map((c) => c.name);
  out.gatewayCookies = (await context.cookies())
    .filter((c) => c.name.startsWith("__Host-"))
    .map(({ name, secure, httpOnly, sameSite, path }) => ({ name, secure, httpOnly, sameSite, path }));
  // While the authorization is still pending, a page of another origin (the client's) frames
  // the consent page: the browser must refuse to render it.
  const framed = await context.newPage();
  await framed.goto(`${redirectPrefix}framing.html`);
  await framed.evaluate((src) => new Promise((resolve) => {
    const frame = document.getElementById("f");
    frame.addEventListener("load", resolve, { once: true });
    frame.src = src;
  }), out.consentUrl);
  const child = framed.frames().find((f) => f !== framed.mainFrame());
  out.framedHasAllowButton = child ? (await child.$("#allow").catch(() => null)) !== null : false;
  const done = page.waitForURL((url) => url.href.startsWith(redirectPrefix), { timeout: 30000 });
  await page.click("#allow");
  await done;
  out.finalUrl = page.url();
} catch (e) {
  out.error = String(e);
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
