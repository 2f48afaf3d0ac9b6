// Measures the fleet console's time to first full table (issue 19): opens
// URL/#fleet in Chromium and waits, at every animation frame, for ROWS
// process rows with every node up. The first load is right after the
// console's daemon started; then RUNS loads of the warm console.
// Usage: node fleetbench.mjs URL ROWS NODES RUNS
// Prints one JSON line: {"cold": ms, "warm": [ms, ...]}.
import { launch } from './lib.mjs';

const [url, rows, nodes, runs] = process.argv.slice(2).map((x, i) => (i ? Number(x) : x));

async function load(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(url + '/#fleet', { waitUntil: 'commit' });
  await page.waitForFunction(([r, n]) =>
    document.querySelectorAll('#fleet-rows tr[data-fns]').length === r &&
    document.querySelectorAll('#fleet-nodes .ncard[data-nstate="up"]').length === n + 1, [rows, nodes], { polling: 'raf', timeout: 60000 });
  // performance.now() counts from the navigation's start.
  const ms = await page.evaluate(() => performance.now());
  await ctx.close();
  return Math.round(ms);
}

const browser = await launch();
try {
  const cold = await load(browser);
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(await load(browser));
  console.log(JSON.stringify({ cold, warm }));
} finally {
  await browser.close();
}
