/**
 * The thumbs up and down users gave replies, for the deployment's operators: reads the internal
 * query `feedback:exportPage` page by page with the deployment's admin key, as `npx convex run`
 * does (`POST /api/function`, `Authorization: Convex <admin key>`).
 */
import type { FunctionReturnType } from "convex/server";
import type { internal } from "../../convex/_generated/api";

/** One rating as `feedback:exportPage` returns it. */
export type FeedbackEntry = FunctionReturnType<
  typeof internal.feedback.exportPage
>["entries"][number];

type Page = FunctionReturnType<typeof internal.feedback.exportPage>;

async function exportPage(url: string, adminKey: string, cursor: string | null): Promise<Page> {
  const response = await fetch(`${url.replace(/\/$/, "")}/api/function`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Convex ${adminKey}` },
    body: JSON.stringify({ path: "feedback:exportPage", args: { cursor }, format: "json" }),
  });
  const text = await response.text();
  let body: { status?: string; value?: Page; errorMessage?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  if (body.status !== "success" || body.value === undefined) {
    throw new Error(`feedback:exportPage failed: ${body.errorMessage ?? text.slice(0, 300)}`);
  }
  return body.value;
}

/** Every rating of the deployment at `url`, oldest first, read a page at a time. */
export async function* feedbackEntries({
  url,
  adminKey,
}: {
  url: string;
  adminKey: string;
}): AsyncGenerator<FeedbackEntry> {
  let cursor: string | null = null;
  for (;;) {
    const page = await exportPage(url, adminKey, cursor);
    yield* page.entries;
    if (page.isDone) return;
    cursor = page.cursor;
  }
}
