// Drives the console of a running `dragnet serve` in headless Chromium (playwright-core):
// a viewer and an investigator sign in, filter findings, open one; only the investigator can
// reveal. Screenshots go to SCREENSHOT_DIR. Run by tests/console.rs, which starts the server
// and passes what it made in the environment.
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import path from "node:path";

const require = createRequire(process.env.PLAYWRIGHT_DIR + "/");
const { chromium } = require("playwright-core");

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOT_DIR;
const bucket = process.env.BUCKET;
const findingKey = process.env.FINDING_KEY;
const secretValue = process.env.SECRET_VALUE;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

async function signIn(token) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/console\/login$/, "signed out visitors are sent to sign in");
  await page.fill("#token", token);
  await page.click("#sign-in");
  await page.waitForURL(`${base}/console`);
  return { context, page };
}

async function openFinding(page, who) {
  await page.click("a[href='/console/findings']");
  await page.fill("#filter-bucket", bucket);
  await page.fill("#filter-severity", "High");
  await page.click("#apply");
  await page.waitForSelector("#count");
  const count = await page.textContent("#count");
  assert.equal(count, "1 findings", `${who}: the filter keeps one High finding`);
  await page.screenshot({ path: path.join(shots, `${who}-findings.png`), fullPage: true });
  await page.click(`text=${bucket}/${findingKey}`);
  await page.waitForSelector("#occurrences");
  const where = await page.textContent("#occurrences");
  assert.match(where, /row \d+, column \d+ \(ssn\)/, `${who}: cell locations are shown`);
  assert.ok(!where.includes(secretValue), `${who}: the finding page shows no value`);
}

try {
  const viewer = await signIn(process.env.VIEWER_TOKEN);
  assert.match(await viewer.page.textContent("#who"), /viewer/);
  assert.ok(await viewer.page.isVisible("#by-severity"), "the dashboard shows findings by severity");
  await viewer.page.screenshot({ path: path.join(shots, "viewer-dashboard.png"), fullPage: true });
  await openFinding(viewer.page, "viewer");
  assert.equal(await viewer.page.locator("#reveal").count(), 0, "viewers get no reveal button");
  const html = await viewer.page.content();
  assert.ok(!html.includes(secretValue), "no value anywhere on a viewer's page");
  await viewer.page.screenshot({ path: path.join(shots, "viewer-finding.png"), fullPage: true });
  await viewer.context.close();

  const investigator = await signIn(process.env.INVESTIGATOR_TOKEN);
  await openFinding(investigator.page, "investigator");
  await investigator.page.click("#reveal");
  await investigator.page.waitForSelector("#revealed");
  const values = await investigator.page.locator("code.value").allTextContents();
  assert.ok(values.includes(secretValue), `the investigator sees the value (got ${values.length} values)`);
  assert.ok(values.length <= 10, "at most 10 values per type");
  await investigator.page.screenshot({ path: path.join(shots, "investigator-revealed.png"), fullPage: true });
  await investigator.context.close();
  console.log("console: viewer and investigator flows passed");
} finally {
  await browser.close();
}
