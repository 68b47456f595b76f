// Open a page served from PAGE_URL in Debian's Chromium (driven by playwright-core) and let it
// speak MCP to the gateway at GATEWAY_URL with fetch(), as a browser-based client does.
// Prints one JSON object: what the page could read, or the error the browser raised.
// Usage: node cors_page.mjs GATEWAY_URL PAGE_URL
import { chromium } from "playwright-core";

const [gatewayUrl, pageUrl] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  const result = await page.evaluate(async (url) => {
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
    };
    const post = (body, extra = {}) =>
      fetch(url, { method: "POST", headers: { ...headers, ...extra }, body: JSON.stringify(body) });
    const out = { origin: location.origin };
    try {
      const init = await post({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "browser", version: "1" } },
      });
      out.initStatus = init.status;
      out.sessionId = init.headers.get("mcp-session-id");
      out.serverName = (await init.json()).result.serverInfo.name;
      const session = { "mcp-session-id": out.sessionId };
      const ready = await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session);
      out.initializedStatus = ready.status;
      const list = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, session);
      const text = await list.text();
      const data = text.startsWith("{") ? text : text.split("\n").filter((l) => l.startsWith("data:")).pop().slice(5);
      out.tools = JSON.parse(data).result.tools.map((t) => t.name);
    } catch (e) {
      out.error = String(e);
    }
    return out;
  }, gatewayUrl);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
