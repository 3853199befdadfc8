// Swagger UI as a person uses it, in Debian's Chromium driven by playwright-core: the docs page loads
// without console errors, lists every tag, and "Try it out" on `GET /books/{id}` shows the live
// answers (200 with Dune for id 1, a 404 problem for a missing id). With --prefix, the page is served
// under a stage prefix (e.g. /prod/docs) and the requests it sends must carry that prefix.
//
//   node swagger.mjs http://127.0.0.1:8080/docs /tmp/libris-artifacts
//   node swagger.mjs http://127.0.0.1:8081/prod/docs /tmp/libris-artifacts --prefix /prod
//
// Screenshots go to the artifact directory. The last line is `swagger-<label>: N passed, N failed`.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const EXPECTED_TAGS = ["Authors", "Books", "Borrowers", "Health", "Loans", "Reviews"];
const CHROMIUM = process.env.LIBRIS_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    prefix: { type: "string", default: "" },
    "missing-id": { type: "string", default: "999999" },
  },
});
if (positionals.length !== 2) {
  console.error("usage: node swagger.mjs <docs-url> <artifact-dir> [--prefix /prod] [--missing-id N]");
  process.exit(2);
}
const docsUrl = new URL(positionals[0]);
const artifacts = resolve(positionals[1]);
const prefix = values.prefix ? `/${values.prefix.replace(/^\/+|\/+$/g, "")}` : "";
const missingId = values["missing-id"];
const label = prefix ? prefix.slice(1).replace(/[^A-Za-z0-9_-]/g, "_") : "direct";
const origin = docsUrl.origin;
const apiUrl = (path) => `${origin}${prefix}${path}`;

if (prefix && !docsUrl.pathname.startsWith(`${prefix}/`)) {
  console.error(`the page ${docsUrl} is not under the prefix ${prefix}`);
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

// ---- a tiny runner --------------------------------------------------------------------------

class Failure extends Error {}
function check(condition, message) {
  if (!condition) throw new Failure(message);
}

const consoleErrors = [];
const notes = [];
const requests = [];
// Console errors that are expected at a given moment: Chromium logs every 4xx/5xx fetch as
// "Failed to load resource", including the 404 this check asks for on purpose.
let expectedFailedLoads = new Set();

function isExpectedFailedLoad(msg) {
  const url = msg.location()?.url ?? "";
  if (!msg.text().startsWith("Failed to load resource: the server responded with a status of 404")) return false;
  if (expectedFailedLoads.has(url)) return true;
  if (url === `${origin}/favicon.ico`) {
    notes.push(`the browser's favicon request got a 404 (${url}); ignored, but the app could serve one`);
    return true;
  }
  return false;
}

function assertNoConsoleErrors(when) {
  check(consoleErrors.length === 0, `console errors ${when}:\n       ${consoleErrors.join("\n       ")}`);
}

const userDataDir = mkdtempSync(join(tmpdir(), "libris-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1280, height: 900 },
  timeout: 60_000,
});
context.setDefaultTimeout(15_000);
const page = context.pages()[0] ?? (await context.newPage());

page.on("console", (msg) => {
  if (msg.type() !== "error" || isExpectedFailedLoad(msg)) return;
  consoleErrors.push(`console.error: ${msg.text()} (${msg.location()?.url ?? "?"})`);
});
page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));
page.on("request", (req) => requests.push(`${req.method()} ${req.url()}`));

const op = page.locator("#operations-Books-getBook");

/** A screenshot of getBook from its summary down to the live response (not the documented ones). */
async function shootLiveResponse(file) {
  const clip = await op.evaluate((el) => {
    const top = el.getBoundingClientRect();
    const live = el.querySelector(".live-responses-table")?.getBoundingClientRect() ?? top;
    return {
      x: top.left + window.scrollX,
      y: top.top + window.scrollY,
      width: top.width,
      height: live.bottom - top.top + 16,
    };
  });
  await page.screenshot({ path: join(artifacts, file), fullPage: true, clip });
}

/** Runs "Try it out" → id → Execute on getBook; returns what the live response shows. */
async function tryGetBook(id) {
  const wanted = apiUrl(`/books/${id}`);
  await op.locator('tr[data-param-name="id"] input').fill(String(id));
  const [request] = await Promise.all([
    page.waitForRequest((req) => new URL(req.url()).pathname.endsWith(`/books/${id}`)),
    op.locator("button.execute").click(),
  ]);
  check(request.url() === wanted, `Swagger UI sent ${request.method()} ${request.url()}, expected GET ${wanted}`);
  check(request.method() === "GET", `Swagger UI sent ${request.method()}`);
  const response = await request.response();
  check(response !== null, `no response to ${wanted}`);

  const live = op.locator(".live-responses-table tbody tr.response");
  await live.locator(".response-col_status").waitFor();
  const requestUrl = (await op.locator(".request-url pre").textContent())?.trim();
  const status = (await live.locator(".response-col_status").textContent())?.trim();
  const bodyText = (await live.locator(".highlight-code pre").first().textContent()) ?? "";
  const headerLines = await live.locator(".headerline").allTextContents();
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const at = line.indexOf(":");
      return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch {
    throw new Failure(`the response body shown is not JSON: ${bodyText.slice(0, 300)}`);
  }
  return { networkStatus: response.status(), requestUrl, status, body, headers, wanted };
}

const steps = [];
const step = (name, run) => steps.push([name, run]);

step(`load ${docsUrl.pathname} without console errors`, async () => {
  const response = await page.goto(docsUrl.href, { waitUntil: "load" });
  check(response?.status() === 200, `GET ${docsUrl} answered ${response?.status()}`);
  await page.locator(".swagger-ui .info .title").waitFor();
  const title = (await page.locator(".swagger-ui .info .title").textContent()) ?? "";
  check(title.includes("Libris"), `the page title is ${JSON.stringify(title)}`);
  await page.locator("h3.opblock-tag").first().waitFor();
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: join(artifacts, `swagger-${label}-docs.png`) });
  assertNoConsoleErrors("while loading");
});

step(`every tag is listed (${EXPECTED_TAGS.join(", ")})`, async () => {
  const tags = await page.locator("h3.opblock-tag").evaluateAll((els) => els.map((e) => e.getAttribute("data-tag")));
  for (const tag of EXPECTED_TAGS) check(tags.includes(tag), `tag ${tag} is missing; listed: ${tags.join(", ")}`);
});

step(`the servers list offers ${prefix || "/"}`, async () => {
  const server = await page.locator(".servers select").inputValue();
  check(server === (prefix || "/"), `the servers list offers ${JSON.stringify(server)}, expected ${JSON.stringify(prefix || "/")}`);
});

step("Try it out: GET /books/1 shows 200 and Dune", async () => {
  await op.locator(".opblock-summary").click();
  await op.locator("button.try-out__btn").click();
  const shown = await tryGetBook(1);
  check(shown.requestUrl === shown.wanted, `the Request URL shown is ${shown.requestUrl}, expected ${shown.wanted}`);
  check(shown.networkStatus === 200, `the server answered ${shown.networkStatus}`);
  check(shown.status === "200", `the live response shows ${shown.status}, expected 200`);
  check(shown.body.title === "Dune" && shown.body.id === 1, `the body shown is ${JSON.stringify(shown.body)}`);
  check(shown.headers["content-type"]?.startsWith("application/json"), `content-type ${shown.headers["content-type"]}`);
  await shootLiveResponse(`swagger-${label}-getBook-200.png`);
  assertNoConsoleErrors("after Try it out");
});

step(`Try it out: GET /books/${missingId} shows the 404 problem`, async () => {
  expectedFailedLoads = new Set([apiUrl(`/books/${missingId}`)]);
  const shown = await tryGetBook(missingId);
  check(shown.requestUrl === shown.wanted, `the Request URL shown is ${shown.requestUrl}, expected ${shown.wanted}`);
  check(shown.networkStatus === 404, `the server answered ${shown.networkStatus}`);
  check(shown.status === "404", `the live response shows ${shown.status}, expected 404`);
  const type = shown.headers["content-type"] ?? "";
  check(type.split(";")[0] === "application/problem+json", `content-type ${JSON.stringify(type)}`);
  const problem = shown.body;
  check(problem.status === 404, `problem.status ${problem.status}`);
  check(typeof problem.type === "string" && problem.type.length > 0, `problem.type ${problem.type}`);
  check(typeof problem.title === "string" && problem.title.length > 0, `problem.title ${problem.title}`);
  check(
    typeof problem.detail === "string" && problem.detail.includes(String(missingId)),
    `problem.detail ${JSON.stringify(problem.detail)}`,
  );
  await shootLiveResponse(`swagger-${label}-getBook-404.png`);
  expectedFailedLoads = new Set();
  assertNoConsoleErrors("after the 404");
});

step("Authorize with a dev token, then Try it out: GET /borrowers (librarians only) shows 200", async () => {
  const tokenUrl = apiUrl("/auth/dev-token?role=librarian");
  const issued = await fetch(tokenUrl);
  check(issued.ok, `GET ${tokenUrl} answered ${issued.status}: is the server in LIBRIS_AUTH=dev?`);
  const { access_token: token } = await issued.json();
  await page.locator(".auth-wrapper button.authorize").click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input").first().fill(token);
  await dialog.locator("button.authorize").first().click();
  await dialog.locator("button.btn-done").click();
  const borrowers = page.locator("#operations-Borrowers-listBorrowers");
  await borrowers.locator(".opblock-summary").click();
  await borrowers.locator("button.try-out__btn").click();
  const [request] = await Promise.all([
    page.waitForRequest((req) => new URL(req.url()).pathname.endsWith("/borrowers")),
    borrowers.locator("button.execute").click(),
  ]);
  check(request.headers()["authorization"] === `Bearer ${token}`, "Swagger UI did not send the token");
  const response = await request.response();
  check(response?.status() === 200, `the server answered ${response?.status()}`);
  const live = borrowers.locator(".live-responses-table tbody tr.response .response-col_status");
  await live.waitFor();
  check((await live.textContent())?.trim() === "200", `the live response shows ${await live.textContent()}`);
  await page.screenshot({ path: join(artifacts, `swagger-${label}-authorized.png`) });
  assertNoConsoleErrors("after authorizing");
});

step(prefix ? `every API request went through ${prefix}` : "every API request went to the server root", async () => {
  const api = /^\/(books|authors|borrowers|loans|reviews|health)(\/|$)/;
  const calls = requests.filter((r) => new URL(r.split(" ")[1]).origin === origin);
  const stray = calls.filter((r) => {
    const path = new URL(r.split(" ")[1]).pathname;
    if (path === "/favicon.ico" || path === docsUrl.pathname) return false;
    return !(path.startsWith(`${prefix}/`) && api.test(path.slice(prefix.length)));
  });
  check(stray.length === 0, `requests outside ${prefix || "/"}: ${stray.join(", ")}`);
  check(calls.includes(`GET ${apiUrl("/books/1")}`), `no GET ${apiUrl("/books/1")} among ${calls.join(", ")}`);
});

// ---- run ------------------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error(`swagger-${label}: timed out after 180 s`);
  process.exit(1);
}, 180_000);
watchdog.unref();

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  for (const [index, [name, run]] of steps.entries()) {
    const started = performance.now();
    try {
      await run();
      passed++;
      console.log(`ok   ${name} (${Math.round(performance.now() - started)} ms)`);
    } catch (err) {
      failed++;
      skipped = steps.length - index - 1;
      console.log(`FAIL ${name}\n     ${err instanceof Failure ? err.message : err?.stack ?? err}`);
      const shot = join(artifacts, `swagger-${label}-failure.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${shot}`);
      break;
    }
  }
} finally {
  await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
for (const note of new Set(notes)) console.log(`note: ${note}`);
console.log(`screenshots: ${artifacts}/swagger-${label}-*.png`);
console.log(`swagger-${label}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed ? 1 : 0);
