import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startLocalBackend, type LocalBackend } from "../tools/local-backend";
import { api } from "./_generated/api";
import { guestClient } from "../tools/testing/guest";

// Ids that arrive in a page URL (/c/<sessionId>, /share/<shareId>) may be anything a person types.
// Every public query and mutation taking one accepts a string and answers NotFound (or, for a
// share link, "no such link"), on a production deployment, where an argument validator's failure
// would reach the page only as "Server Error".
const URL_ID_FIELDS = ["sessionId", "shareId"];

type ArgsJson = {
  type: string;
  value?: Record<string, { fieldType: { type: string }; optional: boolean }>;
};
type Exported = {
  isPublic?: boolean;
  isQuery?: boolean;
  isMutation?: boolean;
  exportArgs?: () => string;
};

const modules = import.meta.glob<Record<string, unknown>>([
  "./*.ts",
  "!./*.test.ts",
  "!./*.setup.ts",
  "!./schema.ts",
  "!./crons.ts",
  "!./http.ts",
  "!./auth.config.ts",
]);

/** "messages:send" -> { kind, fields } for every public query and mutation with a URL id argument. */
async function functionsTakingUrlIds() {
  const found: Array<{ path: string; kind: "query" | "mutation"; fields: ArgsJson["value"] }> = [];
  for (const [file, load] of Object.entries(modules)) {
    const module = await load();
    for (const [name, value] of Object.entries(module)) {
      const fn = value as Exported;
      if (!fn?.isPublic || !fn.exportArgs || !(fn.isQuery || fn.isMutation)) continue;
      const args = JSON.parse(fn.exportArgs()) as ArgsJson;
      if (!Object.keys(args.value ?? {}).some((field) => URL_ID_FIELDS.includes(field))) continue;
      const path = `${file.replace(/^\.\//, "").replace(/\.ts$/, "")}:${name}`;
      found.push({ path, kind: fn.isQuery ? "query" : "mutation", fields: args.value });
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

// A valid value for each other argument these functions take; a new argument needs one here.
const SAMPLE_ARGS: Record<string, unknown> = {
  title: "A title",
  model: "gpt-4o",
  content: "hello",
  paginationOpts: { numItems: 5, cursor: null },
  cursor: null,
  snapshot: 1,
  effort: "low",
  listing: "pinned",
  enabled: true,
};

let backend: LocalBackend;

beforeAll(async () => {
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    quiet: true,
    production: true,
    env: {
      AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9",
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
    },
  });
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

const guest = () => guestClient(backend.url);

/** How a call ended as a production client sees it: its value, or the error's code and message. */
async function outcome(call: Promise<unknown>) {
  try {
    return { value: await call };
  } catch (error) {
    if (error instanceof ConvexError) return { code: (error.data as { code: string }).code };
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

describe("ids from a URL, on a production deployment", () => {
  test("every public query and mutation taking one validates it as a string, not v.id", async () => {
    const found = await functionsTakingUrlIds();
    // The list is what the app has today; a new function taking a URL id joins it by itself.
    expect(found.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "messages:list",
        "messages:send",
        "messages:selectedLeaf",
        "models:forChat",
        "models:setForChat",
        "sessions:remove",
        "sessions:rename",
        "shares:forSession",
        "shares:messages",
        "shares:revoke",
        "shares:share",
        "shares:view",
        "chatExport:page",
      ]),
    );
    for (const { path, fields } of found) {
      for (const field of URL_ID_FIELDS) {
        if (fields?.[field])
          expect(`${path} ${field}: ${fields[field].fieldType.type}`).toBe(
            `${path} ${field}: string`,
          );
      }
    }
  });

  test("each answers NotFound (a share link: nothing) for 32 random letters, another table's id, and another user's chat", async () => {
    const viewer = await guest();
    const owner = await guest();
    const othersChat = await owner.mutation(api.sessions.create, {});
    const ownChat = await viewer.mutation(api.sessions.create, {});
    // A real id of the wrong table: the viewer's own chat where a share id goes is just a string.
    const { userMessageId } = await viewer.mutation(api.messages.send, {
      sessionId: ownChat,
      content: "hello",
    });
    const randomLetters = Array.from({ length: 32 }, () =>
      String.fromCharCode(97 + Math.floor(Math.random() * 26)),
    ).join("");
    const found = await functionsTakingUrlIds();
    const wrong: string[] = [];
    for (const { path, kind, fields } of found) {
      for (const id of [randomLetters, userMessageId, othersChat]) {
        const args: Record<string, unknown> = {};
        for (const [field, { optional }] of Object.entries(fields ?? {})) {
          if (URL_ID_FIELDS.includes(field)) args[field] = id;
          else if (optional) continue;
          else if (field in SAMPLE_ARGS) args[field] = SAMPLE_ARGS[field];
          else throw new Error(`${path}: add a sample value for "${field}" to SAMPLE_ARGS`);
        }
        const ref = path as never;
        const result = await outcome(
          kind === "query" ? viewer.query(ref, args as never) : viewer.mutation(ref, args as never),
        );
        const shareLink = path.startsWith("shares:view") || path.startsWith("shares:messages");
        const ok = shareLink
          ? "value" in result &&
            (result.value === null || (result.value as { page?: unknown[] }).page?.length === 0)
          : path === "shares:revoked"
            ? "value" in result && result.value === false
            : "code" in result && result.code === "NotFound";
        if (!ok)
          wrong.push(`${path}(${id === randomLetters ? "random" : id}): ${JSON.stringify(result)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
