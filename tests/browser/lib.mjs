// What the Chromium scripts of this directory share: arguments, logging,
// polling with a deadline, and Debian's headless Chromium.
import { chromium } from 'playwright-core';

// args returns the script's positional arguments, or exits 2 with the
// usage line when one of the first `required` is missing.
export function args(usage, required) {
  const a = process.argv.slice(2);
  if (a.length < required || a.slice(0, required).some((x) => !x)) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return a;
}

// stepper logs progress lines tagged like "[fleet] …".
export const stepper = (tag) => (msg) => console.log(`[${tag}] ${msg}`);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until polls fn (async, returning a truthy value that is not {ok: false}
// when done) until the deadline; it returns the value and how long it took
// (ms) as {v, ms}; the error names what was awaited and the last value.
export async function timedUntil(what, ms, fn) {
  const t0 = Date.now();
  let last;
  for (;;) {
    last = await fn();
    if (last && last.ok !== false) return { v: last, ms: Date.now() - t0 };
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    await sleep(40);
  }
}

// until is timedUntil's value alone.
export async function until(what, ms, fn) {
  return (await timedUntil(what, ms, fn)).v;
}

// launch starts Debian's headless Chromium.
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// run runs main, turning a failure into "[tag] FAIL: …" and exit status 1.
export function run(tag, main) {
  main().catch((e) => {
    console.error(`[${tag}] FAIL: ${e.message}`);
    process.exit(1);
  });
}
