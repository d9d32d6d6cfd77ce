// The dashboard in Debian's Chromium, driven by puppeteer-core: one scenario per run, chosen by
// argv[2], with its settings in the DASHBOARD_TEST environment variable (JSON). What needs the
// test's peers (publishing a TXT record, signing a CSR) is asked of the Python test that runs
// this: a line "ASK <json>" on stdout, answered by one JSON line on stdin. The run ends with a
// line "DONE <json>"; a failed check throws, and the exit status is 1.
import { readFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const cfg = JSON.parse(process.env.DASHBOARD_TEST || "{}");
const WIDTHS = { desktop: 1280, phone: 390 };
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

async function ask(question) {
  process.stdout.write(`ASK ${JSON.stringify(question)}\n`);
  const { value, done } = await lines.next();
  if (done) throw new Error("the test closed stdin");
  return JSON.parse(value);
}

async function launch() {
  return puppeteer.launch({
    executablePath: cfg.chromium || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
      "--disable-extensions", "--disable-background-networking"],
  });
}

async function openPage(browser, width = WIDTHS.desktop) {
  const page = await browser.newPage();
  await page.setViewport({ width, height: width > 600 ? 900 : 844, isMobile: width <= 600 });
  page.on("pageerror", (e) => { throw new Error(`page error: ${e.message}`); });
  page.on("dialog", (d) => d.accept()); // the delete confirmations
  return page;
}

async function shot(page, name) {
  if (!cfg.shots) return;
  mkdirSync(cfg.shots, { recursive: true });
  const width = page.viewport().width;
  await page.screenshot({ path: `${cfg.shots}/${name}-${width}.png`, fullPage: true });
}

const text = (page, sel) => page.$eval(sel, (el) => el.textContent.trim());

async function waitText(page, wanted, timeout = 30000) {
  await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout, polling: 100 }, wanted);
}

// Fills SELECTOR with VALUE as a user would type it.
async function type(page, selector, value) {
  await page.click(selector, { clickCount: 3 });
  await page.type(selector, value);
}

async function clickText(page, tag, label) {
  const handle = await page.waitForFunction((t, l) => [...document.querySelectorAll(t)]
    .find((el) => el.textContent.trim() === l && !el.disabled), { timeout: 15000 }, tag, label);
  await handle.click();
}

async function signIn(page, token = cfg.token) {
  await page.goto(`${cfg.url}/`, { waitUntil: "networkidle0" });
  await page.waitForSelector("#token");
  await type(page, "#token", token);
  await clickText(page, "button", "Sign in");
}

// From the list page: Add Custom Hostname, HOSTNAME with METHOD (the form's default when
// none), BEFORE(page) if given, then submit.
async function submitNewHostname(page, hostname, method, before) {
  await clickText(page, "a", "Add Custom Hostname");
  await page.waitForSelector("#hostname");
  await type(page, "#hostname", hostname);
  if (method) await page.click(`#method-${method}`);
  if (before) await before(page);
  await clickText(page, "button", "Add Custom Hostname");
}

// The id of the hostname whose page the dashboard opened after a create.
async function openedHostnameId(page) {
  await page.waitForFunction(() => /#\/hostnames\/[0-9a-f-]{36}$/.test(location.hash));
  return page.url().split("/").pop();
}

// What the page offers to copy: label -> value, from the records lists.
async function records(page) {
  return page.$$eval(".copy-value", (rows) => rows.map((r) => [
    r.querySelector("dt").textContent.trim(),
    (r.querySelector("dd code") || r.querySelector("dd")).textContent.trim()]));
}

async function axeCheck(page, name) {
  await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(!serious.length, `${name}: accessibility violations ${JSON.stringify(serious.map((v) =>
    ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target) })))}`);
  return result.violations.length;
}

async function waitStatus(page, label, status, timeout) {
  await waitText(page, `${label}: ${status}`, timeout);
}

const scenarios = {
  // A wrong token is refused with the API's message, and nothing of it is kept.
  async wrong_token(browser) {
    const page = await openPage(browser);
    await signIn(page, "0".repeat(40));
    await page.waitForSelector(".alert");
    const message = await text(page, ".alert");
    check(/Invalid access token/.test(message), `refusal shown: ${message}`);
    const kept = await page.evaluate(() => sessionStorage.length + localStorage.length);
    check(kept === 0, "nothing stored after a refused sign-in");
    await shot(page, "signin-refused");
    return { message };
  },

  // Sign in, the token stays out of the URL and out of localStorage; sign out forgets it.
  async sign_in_out(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await waitText(page, "Custom Hostnames");
    await waitText(page, cfg.zone_name);
    const where = page.url();
    check(!where.includes(cfg.token), "token not in the URL");
    const local = await page.evaluate(() => JSON.stringify(localStorage));
    check(!local.includes(cfg.token), "token not in localStorage without asking");
    const session = await page.evaluate(() => JSON.stringify(sessionStorage));
    check(session.includes(cfg.token), "token kept for the tab");
    const html = await page.content();
    check(!html.includes(cfg.token), "token not in the page");
    await clickText(page, "button", "Sign out");
    await page.waitForSelector("#token");
    const left = await page.evaluate(() => sessionStorage.length + localStorage.length);
    check(left === 0, "sign out forgets the credential");
    return { url: where };
  },

  // The seeds' TXT walk-through: fallback origin from the card, app.customer.com with txt, the
  // TXT name and values read off the page and set at the customer's DNS, recheck, active.
  async txt_flow(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await page.waitForSelector("#fallback-origin");
    await shot(page, "list-empty");
    await type(page, "#fallback-origin", cfg.fallback_origin);
    await clickText(page, "button", "Add");
    await page.waitForSelector(".fallback-current");
    const fallback = await text(page, ".fallback-current");
    check(fallback.includes(cfg.fallback_origin), `fallback shown: ${fallback}`);

    await submitNewHostname(page, cfg.hostname, "txt", (p) => shot(p, "add-hostname"));
    const id = await openedHostnameId(page);
    await waitText(page, "Certificate validation TXT", 60000);
    const shown = await records(page);
    const names = shown.filter(([l]) => l.startsWith("Certificate validation TXT name")).map(([, v]) => v);
    const values = shown.filter(([l]) => l.startsWith("Certificate validation TXT value")).map(([, v]) => v);
    check(names.length && values.length, `TXT records shown: ${JSON.stringify(shown)}`);
    await shot(page, "hostname-pending");
    await ask({ publish_txt: values.map((v, i) => ({ name: names[Math.min(i, names.length - 1)], value: v })) });
    await clickText(page, "button", "Recheck validation");
    await waitStatus(page, "Certificate", "active", cfg.timeout_ms);
    await waitStatus(page, "Hostname", "active", cfg.timeout_ms);
    await shot(page, "hostname-active");
    const certs = await page.$$eval("#certs-title + .table-scroll tbody tr", (r) => r.length);
    check(certs === 2, `two certificates listed (ECDSA and RSA): ${certs}`);
    return { id, names, values };
  },

  // http: nothing to hand over once the name points at the edge; the page reaches active alone.
  async http_flow(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await submitNewHostname(page, cfg.hostname);
    const id = await openedHostnameId(page);
    await waitStatus(page, "Certificate", "active", cfg.timeout_ms);
    await page.goto(`${cfg.url}/dashboard/#/`, { waitUntil: "networkidle0" });
    await waitText(page, cfg.hostname);
    await shot(page, "list");
    return { id };
  },

  // Bad input: the API's message next to the field, and the page stays on the form.
  async bad_input(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await submitNewHostname(page, cfg.hostname);
    await page.waitForSelector("#hostname-error");
    const message = await text(page, "#hostname-error");
    const described = await page.$eval("#hostname", (el) => el.getAttribute("aria-describedby"));
    check(described.includes("hostname-error"), "the error is tied to the field");
    check((await page.evaluate(() => location.hash)) === "#/add", "still on the form");
    await page.click("#method-http");
    const wildcardDisabled = await page.$eval("#wildcard", (el) => el.disabled);
    check(wildcardDisabled, "no wildcard with http validation");
    await shot(page, "add-hostname-error");
    return { message };
  },

  // A CSR generated on the page, signed by the test's CA, uploaded for the hostname on its page.
  async csr_upload(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await page.waitForSelector("a[href='#/csrs']");
    await page.click("a[href='#/csrs']");
    await page.waitForSelector("#csr-common_name");
    const f = { common_name: cfg.hostname, sans: cfg.hostname, country: "US", state: "California",
      locality: "San Francisco", organization: "Customer Inc." };
    for (const [k, v] of Object.entries(f)) await type(page, `#csr-${k}`, v);
    await page.select("#csr-key-type", "p256v1");
    await clickText(page, "button", "Generate CSR");
    await page.waitForSelector("pre.pem");
    const csr = await text(page, "pre.pem");
    check(csr.startsWith("-----BEGIN CERTIFICATE REQUEST-----"), "CSR shown as PEM");
    const csrId = (await text(page, "#made-title")).replace("CSR ", "");
    await shot(page, "csrs");
    const { certificate } = await ask({ sign_csr: csr });

    await page.goto(`${cfg.url}/dashboard/#/hostnames/${cfg.hostname_id}`, { waitUntil: "networkidle0" });
    await clickText(page, "summary h2", "Upload a custom certificate");
    await page.waitForSelector("#upload-cert");
    await page.$eval("#upload-cert", (el, v) => { el.value = v; el.dispatchEvent(new Event("input", { bubbles: true })); }, certificate);
    await page.select("#upload-csr", csrId);
    await clickText(page, "button", "Upload certificate");
    await waitStatus(page, "Certificate", "active", cfg.timeout_ms);
    await shot(page, "hostname-uploaded");
    return { csr_id: csrId };
  },

  // An uploaded pair: remove its RSA certificate, then replace the ECDSA one by a new one.
  async pack_edit(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await page.waitForSelector("table.hostnames");
    await page.goto(`${cfg.url}/dashboard/#/hostnames/${cfg.hostname_id}`, { waitUntil: "networkidle0" });
    await page.waitForSelector(".pack-actions li");
    const rows = await page.$$eval(".pack-actions li", (li) => li.map((l) => l.textContent));
    check(rows.length === 2 && /ECDSA/.test(rows[0]) && /RSA/.test(rows[1]), `pair listed: ${rows}`);
    await (await page.$$(".pack-actions li"))[1].$("button.danger").then((b) => b.click());
    await page.waitForFunction(() => document.querySelectorAll(".pack-actions li").length === 1);
    const { certificate, key } = await ask({ new_leaf: "ec" });
    await clickText(page, ".pack-actions button", "Replace");
    await page.waitForSelector("#replace-cert");
    for (const [sel, v] of [["#replace-cert", certificate], ["#replace-key", key]])
      await page.$eval(sel, (el, value) => { el.value = value; el.dispatchEvent(new Event("input", { bubbles: true })); }, v);
    await clickText(page, "button", "Replace certificate");
    await page.waitForFunction(() => !document.querySelector("#replace-cert"));
    await waitStatus(page, "Certificate", "active", cfg.timeout_ms);
    await shot(page, "hostname-pack-edited");
    return {};
  },

  // Every page at both widths: a screenshot, and axe-core with no serious violation.
  async pages(browser) {
    const seen = {};
    for (const [name, width] of Object.entries(WIDTHS)) {
      const page = await openPage(browser, width);
      await page.goto(`${cfg.url}/`, { waitUntil: "networkidle0" });
      await page.waitForSelector("#token");
      await shot(page, "signin");
      seen[`signin-${name}`] = await axeCheck(page, `sign-in ${name}`);
      await signIn(page);
      await page.waitForSelector("table.hostnames, .empty");
      await shot(page, "list");
      seen[`list-${name}`] = await axeCheck(page, `list ${name}`);
      for (const [hash, label, ready] of [["#/add", "add", "#hostname"], ["#/csrs", "csrs", "#csr-common_name"],
        [`#/hostnames/${cfg.hostname_id}`, "hostname", ".status-card"]]) {
        await page.goto(`${cfg.url}/dashboard/${hash}`, { waitUntil: "networkidle0" });
        await page.waitForSelector(ready);
        await shot(page, label);
        seen[`${label}-${name}`] = await axeCheck(page, `${label} ${name}`);
      }
      // Nothing wider than the screen: the phone layout reflows instead of scrolling sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      check(overflow <= 1, `${name}: the page is ${overflow}px wider than the screen`);
      await page.close();
    }
    return { minor_violations: seen };
  },

  // Keyboard alone: tab to the search box, search, and open a hostname with Enter.
  async keyboard(browser) {
    const page = await openPage(browser);
    await signIn(page);
    await page.waitForSelector("table.hostnames");
    await page.focus("#search");
    await page.keyboard.type(cfg.hostname.slice(0, 6));
    await page.keyboard.press("Enter");
    await page.waitForFunction((h) => [...document.querySelectorAll("table.hostnames a")]
      .some((a) => a.textContent === h), {}, cfg.hostname);
    let focused = "";
    for (let i = 0; i < 40 && focused !== cfg.hostname; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement.textContent);
    }
    check(focused === cfg.hostname, "the hostname's link is reached with Tab");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".status-card");
    return {};
  },

  // Another site cannot frame the dashboard.
  async framing(browser) {
    const page = await openPage(browser);
    await page.goto(cfg.other_origin, { waitUntil: "load" });
    await page.setContent(`<iframe id="f" src="${cfg.url}/dashboard/"></iframe>`);
    await new Promise((r) => setTimeout(r, 1500));
    const frame = page.frames().find((f) => f !== page.mainFrame());
    let loaded = false;
    try {
      loaded = Boolean(await frame.$("#app"));
    } catch (e) {
      loaded = false;
    }
    check(!loaded, "the dashboard refused to be framed");
    return { frame_url: frame ? frame.url() : null };
  },

  // The email DCV approval page, in the dashboard's style: both widths, accessible, and the
  // Approve button approves.
  async approval(browser) {
    const violations = {};
    for (const [name, width] of Object.entries(WIDTHS)) {
      const page = await openPage(browser, width);
      await page.goto(cfg.approval_url, { waitUntil: "networkidle0" });
      await waitText(page, cfg.hostname);
      await shot(page, "approval");
      violations[name] = await axeCheck(page, `approval ${name}`);
      if (name === "phone") {
        await clickText(page, "button", "Approve");
        await waitText(page, "Certificate approved");
        await shot(page, "approval-done");
      }
      await page.close();
    }
    return { minor_violations: violations };
  },

  // First paint on loopback, cold (a new browser context each time), for the dashboard and, in
  // turn with it, for a peer: a plain page of the same size from another local server, so that
  // the machine's load at the moment is measured too. And the bytes the dashboard fetched.
  async load_speed(browser) {
    const paints = { dashboard: [], peer: [] };
    let bytes = 0;
    for (let i = 0; i < 6; i++) {
      for (const [which, url] of [["dashboard", `${cfg.url}/dashboard/`], ["peer", cfg.peer_url]]) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        const client = await page.createCDPSession();
        await client.send("Network.enable");
        let total = 0;
        client.on("Network.loadingFinished", (e) => { total += e.encodedDataLength; });
        await page.goto(url, { waitUntil: "networkidle0" });
        if (which === "dashboard") await page.waitForSelector("#token");
        const fcp = await page.evaluate(() => {
          const p = performance.getEntriesByName("first-contentful-paint")[0];
          return p ? p.startTime : null;
        });
        if (i > 0) paints[which].push(fcp); // the first round warms the browser itself up
        if (which === "dashboard") bytes = Math.max(bytes, total);
        await context.close();
      }
    }
    return { first_paint_ms: paints, transferred_bytes: bytes };
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
const browser = await launch();
try {
  const result = await scenarios[name](browser);
  process.stdout.write(`DONE ${JSON.stringify(result)}\n`);
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit(process.exitCode || 0);
}
