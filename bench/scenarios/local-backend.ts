import { measureCommitLatency, type CommitLatency } from "../local-backend-latency";
import { ms, Rows, verdict, type Scenario } from "../lib/scenario";

/** Scenario 5: the local backend's commit-to-subscriber latency with 1 and 20 subscribers. */
export const localBackend: Scenario = {
  id: "5",
  name: "local backend commit-to-subscriber latency",
  run: async () => {
    const rows = new Rows("5");
    const out: Record<string, CommitLatency> = {};
    for (const subscribers of [1, 20]) {
      const r = await measureCommitLatency({ subscribers, commits: 200 });
      out[`subscribers${subscribers}`] = r;
      rows.add(
        `commit to subscriber, ${subscribers} subscriber${subscribers > 1 ? "s" : ""} (${r.samples} samples)`,
        `p50 ${ms(r.medianMs)}, p95 ${ms(r.p95Ms)}, max ${ms(r.maxMs)}`,
        "p95 < 10 ms (ours)",
        verdict(r.p95Ms < 10),
      );
    }
    return { rows: rows.rows, results: { localBackend: out } };
  },
};
