import { describe, expect, it } from "vitest";
import { runAttack, SMALL_PLAN } from "./index";

// The cases of `npm run attack` but the browser ones (tests/e2e covers those), against limits a few
// times smaller (SMALL_PLAN), on every run of the tests: each attack of issues 14 and 28 must still
// be refused or bounded.
describe("the attack run at small scale", () => {
  it("refuses or bounds every attack", async () => {
    const results = await runAttack(SMALL_PLAN);
    expect(results.filter((r) => !r.pass).map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    expect(results).toHaveLength(21);
  }, 180_000);
});
