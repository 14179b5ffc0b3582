import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend } from "../tools/local-backend/index";
import { FIXTURE_FUNCTIONS_DIR } from "../tools/local-backend/test-helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

/** Result of {@link measureCommitLatency}; times in milliseconds. */
export type CommitLatency = {
  subscribers: number;
  commits: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  samples: number;
};

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

// The backend in its own process, so that it does not share an event loop with the 21 clients.
async function startBackendProcess(): Promise<{ url: string; close: () => Promise<void> }> {
  const options = { port: 0, sitePort: 0, functionsDir: FIXTURE_FUNCTIONS_DIR };
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "tools/local-backend/test-fixtures/run-backend.ts",
      JSON.stringify(options),
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`the backend process exited with ${code}`)));
  });
  return {
    url,
    close: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Commit-to-subscriber latency of the local backend on loopback: one ConvexClient commits a
 * counter increment, `subscribers` other ConvexClients (one WebSocket each) subscribe to the
 * counter; each sample is the time from sending the mutation to a subscriber's callback seeing
 * the new value (so it includes running the mutation). The backend runs in a child
 * process unless `inProcess`.
 */
export async function measureCommitLatency({
  subscribers,
  commits,
  inProcess = false,
}: {
  subscribers: number;
  commits: number;
  /** Run the backend in this process instead of its own (as browsers would be). */
  inProcess?: boolean;
}): Promise<CommitLatency> {
  const backend = inProcess
    ? await startLocalBackend({
        port: 0,
        sitePort: 0,
        functionsDir: FIXTURE_FUNCTIONS_DIR,
        quiet: true,
      })
    : await startBackendProcess();
  const writer = new ConvexClient(backend.url, { logger: false });
  const readers = Array.from(
    { length: subscribers },
    () => new ConvexClient(backend.url, { logger: false }),
  );
  const name = `bench-${subscribers}-${Date.now()}`;
  const samples: number[] = [];
  let sentAt = 0;
  let expected = -1;
  let pending = 0;
  let allSeen: () => void = () => {};
  try {
    const ready = readers.map(
      (reader) =>
        new Promise<void>((resolve) => {
          let last = -1;
          reader.onUpdate(api.counters.get, { name }, (value: number) => {
            if (value === 0) resolve();
            if (value === expected && last !== value && pending > 0) {
              samples.push(performance.now() - sentAt);
              pending -= 1;
              if (pending === 0) allSeen();
            }
            last = value;
          });
        }),
    );
    await Promise.all(ready);
    // Warm up the mutation path before measuring.
    await writer.mutation(api.counters.increment, { name: `${name}-warmup` });
    for (let i = 1; i <= commits; i++) {
      expected = i;
      pending = subscribers;
      const seen = new Promise<void>((resolve) => (allSeen = resolve));
      sentAt = performance.now();
      const done = writer.mutation(api.counters.increment, { name });
      await Promise.all([seen, done]);
    }
  } finally {
    await Promise.all([writer.close(), ...readers.map((reader) => reader.close())]);
    await backend.close();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    subscribers,
    commits,
    medianMs: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    maxMs: sorted[sorted.length - 1] ?? 0,
    samples: sorted.length,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const targetP95Ms = 10;
  for (const subscribers of [1, 20]) {
    const result = await measureCommitLatency({ subscribers, commits: 200 });
    const verdict =
      subscribers === 20
        ? result.p95Ms < targetP95Ms
          ? " (target p95 < 10 ms: met)"
          : " (target p95 < 10 ms: MISSED)"
        : "";
    process.stdout.write(
      `local backend commit -> subscriber, ${subscribers} subscriber(s): median ${result.medianMs.toFixed(2)} ms, p95 ${result.p95Ms.toFixed(2)} ms, max ${result.maxMs.toFixed(2)} ms over ${result.samples} samples${verdict}\n`,
    );
  }
  process.exit(0);
}
