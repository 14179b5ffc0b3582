/**
 * `npm run attack [text]`: the attack run at full scale (index.ts), or only the cases whose name
 * contains `text`, one line per case as it ends, then a summary; exits 1 when a case failed or the run overran its deadline. First builds the app for
 * production into the browser tests' `.next-e2e` (`E2E_SKIP_BUILD=1` reuses the last build).
 */
import { LIMIT_SETTINGS } from "../../convex/lib/settings";
import { findChromium } from "../app-stack/chromium";
import { buildNextApp } from "../app-stack/next-app";
import { FULL_PLAN, runAttack } from "./index";

const DEADLINE_MS = 180_000;

findChromium();
buildNextApp(FULL_PLAN.app!.distDir, {
  reuse: process.env.E2E_SKIP_BUILD === "1",
  log: (line) => console.log(line),
});

const started = Date.now();
const deadline = setTimeout(() => {
  console.error(`\nFAIL: the attack run took longer than ${DEADLINE_MS / 1000} s.`);
  process.exit(1);
}, DEADLINE_MS);

const lowered = Object.values(LIMIT_SETTINGS)
  .filter((setting) => FULL_PLAN.env[setting.env] !== undefined)
  .map((setting) => `${setting.env}=${FULL_PLAN.env[setting.env]} (default ${setting.default})`);
console.log(
  "Attacking a local backend in production mode on 127.0.0.1 (simulated model), and the app's production build in Chromium.",
);
console.log(`Limits: the defaults, except ${lowered.join(", ")}.\n`);

const only = process.argv[2];
const results = await runAttack(
  FULL_PLAN,
  (result) => {
    const seconds = (result.ms / 1000).toFixed(1).padStart(5);
    console.log(
      `${result.pass ? "PASS" : "FAIL"} ${seconds} s  ${result.name}\n              ${result.detail}`,
    );
  },
  only,
);
clearTimeout(deadline);
const failed = results.filter((result) => !result.pass);
console.log(
  `\n${results.length - failed.length}/${results.length} attacks refused or bounded in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
);
process.exit(failed.length === 0 ? 0 : 1);
