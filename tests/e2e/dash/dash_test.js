// Drive sipguard's dashboard in Debian's headless chromium (playwright-core
// with executablePath): the page loads with the token from its URL
// fragment, shows the live call and the attack the pytest side made,
// unbans the attacker with the page's button, and saves a screenshot.
//
//   node dash_test.js BASE_URL TOKEN CHECKS_JSON SCREENSHOT
//
// CHECKS_JSON: {"caller": "...", "attacker": "127.0.0.66",
// "media_packets": N, "kernel_min": K}: the media tiles must show N
// packets relayed, at least K of them by the kernel.  Prints one JSON
// line with what it saw; exit status 0 only if every step passed.
"use strict";
const { chromium } = require("playwright-core");

const [base, token, checksJson, shot] = process.argv.slice(2);
const checks = JSON.parse(checksJson);
const STEP_MS = 15000;

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // Root in a container: no user namespace for chromium's sandbox.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const seen = { steps: [] };
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", e => errors.push("pageerror: " + e.message));
    page.on("console", m => { if (m.type() === "error") errors.push("console: " + m.text()); });

    // Without a token: the page asks for one and shows no data.
    await page.goto(base + "/dashboard");
    await page.locator("#login").waitFor({ state: "visible", timeout: STEP_MS });
    seen.steps.push("login-without-token");
    errors.length = 0; // the 401-free path: nothing was fetched

    // A wrong token is refused.
    await page.fill("#token", "wrong-token-0123456789");
    await page.click("#login button");
    await page.locator("#status", { hasText: "token refused" }).waitFor({ timeout: STEP_MS });
    seen.steps.push("wrong-token-refused");
    errors.length = 0; // the browser logs the 401 itself

    // The token in the fragment: taken, then removed from the address.
    await page.evaluate(() => sessionStorage.clear());
    await page.goto("about:blank");
    await page.goto(base + "/dashboard#token=" + encodeURIComponent(token));
    await page.locator("#main").waitFor({ state: "visible", timeout: STEP_MS });
    seen.url_after = page.url();
    if (page.url().includes(token)) throw new Error("token left in the URL");
    seen.steps.push("token-accepted");

    // The live call.
    const call = page.locator("#calls tbody tr", { hasText: checks.caller });
    await call.first().waitFor({ timeout: STEP_MS });
    seen.call = await call.first().innerText();
    seen.steps.push("live-call");

    // The attack: in the event feed, the top offenders and the bans.
    const ev = page.locator("#events tbody tr", { hasText: checks.attacker });
    await ev.first().waitFor({ timeout: STEP_MS });
    seen.events = await page.locator("#events tbody tr").count();
    seen.event = await ev.first().innerText();
    await page.locator("#top tbody tr", { hasText: checks.attacker }).first()
      .waitFor({ timeout: STEP_MS });
    const ban = page.locator("#bans tbody tr", { hasText: checks.attacker });
    await ban.first().waitFor({ timeout: STEP_MS });
    seen.ban = await ban.first().innerText();
    seen.tiles = {
      calls: await page.textContent("#t-calls"),
      bans: await page.textContent("#t-bans"),
      dropped: await page.textContent("#t-dropped"),
    };
    seen.steps.push("attack-shown");

    // Media: packets relayed, and how many the kernel fast path relayed
    // (sipguard_media_kernel_packets_total).
    if (checks.media_packets !== undefined) {
      await page.locator("#t-mpkts", { hasText: String(checks.media_packets) })
        .waitFor({ timeout: STEP_MS });
      await page.waitForFunction(k => Number(document.getElementById("t-kernel")
        .textContent) >= k, checks.kernel_min || 0, { timeout: STEP_MS });
      seen.tiles.mpkts = await page.textContent("#t-mpkts");
      seen.tiles.kernel = await page.textContent("#t-kernel");
      seen.tiles.kernel_label = await page.textContent("#t-kernel-l");
      seen.steps.push("media-kernel-shown");
    }
    // Let the charts gather a few samples before the picture.
    await page.waitForTimeout(2500);
    await page.screenshot({ path: shot, fullPage: true });
    seen.steps.push("screenshot");

    // Unban from the page: two clicks (arm, confirm), then the row goes.
    const btn = ban.first().locator("button.unban");
    await btn.click();
    await page.locator("#bans button.armed").first().waitFor({ timeout: STEP_MS });
    await ban.first().locator("button.unban").click();
    await page.locator("#bans tbody tr", { hasText: checks.attacker })
      .waitFor({ state: "detached", timeout: STEP_MS });
    await page.locator("#events tbody tr", { hasText: "unban" }).first()
      .waitFor({ timeout: STEP_MS });
    seen.steps.push("unbanned");
    seen.status = await page.textContent("#status");
    if (errors.length) throw new Error(errors.join("; "));
    console.log(JSON.stringify({ ok: true, seen }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, errors }));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main();
