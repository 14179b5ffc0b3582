import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { launcherPorts, loadEnvLocal } from "../dev/env";
import { feedbackEntries } from "./index";

const USAGE = `npm run feedback [-- --url URL --admin-key KEY]

Prints every thumbs up and down users gave replies, oldest first, one JSON object a line.
Without --url: the local backend of \`npm run dev\` (CONVEX_PORT, data in .data/local-backend).
On Convex cloud: --url https://<deployment>.convex.cloud and a deploy key as --admin-key
(dashboard: Settings, Deploy keys), or npx convex run feedback:exportPage '{"cursor": null}'
page by page.`;

const root = path.resolve(import.meta.dirname, "../..");

function localAdminKey(): string {
  const file = path.join(root, ".data/local-backend/admin-key");
  try {
    return `local-backend|${readFileSync(file, "utf8").trim()}`;
  } catch {
    throw new Error(
      `no ${path.relative(root, file)}: start \`npm run dev\` once, or pass --admin-key`,
    );
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      "admin-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const url = values.url ?? `http://127.0.0.1:${launcherPorts(loadEnvLocal(root)).backend}`;
  const adminKey = values["admin-key"] ?? localAdminKey();
  let count = 0;
  for await (const entry of feedbackEntries({ url, adminKey })) {
    process.stdout.write(
      `${JSON.stringify({ ...entry, ratedAt: new Date(entry.ratedAt).toISOString() })}\n`,
    );
    count += 1;
  }
  console.error(`${count} ratings from ${url}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
