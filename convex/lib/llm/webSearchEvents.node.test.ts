import { describe, expect, test } from "vitest";
import type {
  ResponseCreateParamsStreaming,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";
import { simulatedCitations, simulatedReply } from "../../../tools/azure-openai-sim";
import { useSimulator } from "../../../tools/azure-openai-sim/test-helpers";
import { finishedParts, storeParts, type LogPart, type PartKind } from "../../../lib/reply-parts";
import type { ChatProvider } from "./providers";
import { readResponse, responsesRequest, webSearchEvent } from "./responsesStream";
import { IdleWatch, type StreamSink } from "./upstream";

// The Responses reader turns a web-searching reply's events into parts: the simulator streams
// them in the shapes recorded from Azure's web_search_preview and OpenAI's web_search (see its
// README, "Tools"), and the parts are numbered as the ReplyWriter numbers them.

const TOKENS = 40;
const { sim, client } = useSimulator({ rate: 0, ttft: 0, tokens: TOKENS });

/** The log parts a ReplyWriter would write: a new part on a change of kind, or when one opens. */
function partsSink(): StreamSink & { parts: LogPart[] } {
  const parts: LogPart[] = [];
  return {
    parts,
    start: () => {},
    observe: () => {},
    get pushedAny() {
      return parts.length > 0;
    },
    push(kind: PartKind, text: string, _seq?: number, opens?: boolean) {
      const last = parts.at(-1);
      if (last !== undefined && last.kind === kind && !opens) last.text += text;
      else parts.push({ kind, text });
    },
  };
}

function provider(webSearch: boolean): ChatProvider {
  return {
    kind: "azure",
    client: client(),
    model: "gpt-4o",
    api: "responses",
    reasoning: null,
    maxOutputTokens: 4000,
    background: false,
    webSearch,
    mcpTools: [],
    guessed: { reasoning: false, images: false },
    credentialHint: "",
  };
}

async function read(input: string, tool: "web_search" | "web_search_preview" | null) {
  const chosen = provider(tool !== null);
  const request: ResponseCreateParamsStreaming = responsesRequest(chosen, [
    { role: "user", content: input },
  ]);
  if (tool === "web_search_preview") request.tools = [{ type: "web_search_preview" }];
  const sink = partsSink();
  const controller = new AbortController();
  const outcome = await readResponse(
    chosen,
    request,
    null,
    controller.signal,
    sink,
    new IdleWatch(controller, 5000),
  );
  const parts = finishedParts(sink.parts, { startedAt: 0, endedAt: 0 });
  return { outcome, parts, body: sim().requests().at(-1)?.body as Record<string, unknown> };
}

describe("a reply that searches the web, read into parts", () => {
  test("web_search: the request offers the tool; a search step with its query, the answer, each citation", async () => {
    const input = "Latest news on caching [[sim search=3 untitled=2]]";
    const { outcome, parts, body } = await read(input, "web_search");
    expect(body.tools).toEqual([{ type: "web_search" }]);
    expect(outcome.error).toBeNull();
    expect(parts[0]).toEqual({
      kind: "search",
      status: "completed",
      query: "Latest news on caching",
    });
    // The answer is exactly the model's text; the citations came between its pieces (inline).
    const stored = storeParts(parts);
    expect(stored.content).toBe(simulatedReply(input, { tokens: TOKENS, webSearch: true }).text);
    const cited = parts.flatMap((part) => (part.kind === "citations" ? part.sources : []));
    expect(cited).toEqual(simulatedCitations(input).map(({ url, title }) => ({ url, title })));
    expect(cited[1]?.title).toBe("");
    expect(parts.filter((part) => part.kind === "citations")).toHaveLength(3);
  });

  test("web_search_preview (Azure's recording): the item is done still `searching`, the citations follow the text", async () => {
    const input = "Compare caching strategies [[sim search=2 queries=2]]";
    const { parts } = await read(input, "web_search_preview");
    expect(parts.map((part) => part.kind)).toEqual(["search", "search", "text", "citations"]);
    expect(parts.slice(0, 2)).toEqual([
      { kind: "search", status: "completed", query: "Compare caching strategies" },
      { kind: "search", status: "completed", query: "Compare caching strategies (2)" },
    ]);
    expect(parts[3]).toEqual({
      kind: "citations",
      sources: simulatedCitations(input).map(({ url, title }) => ({ url, title })),
    });
  });

  test("without the tool no search runs and no part but the answer is written", async () => {
    const { parts, body } = await read("News please [[sim search=2]]", null);
    expect(body.tools).toBeUndefined();
    expect(parts.map((part) => part.kind)).toEqual(["text"]);
  });
});

describe("search and citation events, one at a time", () => {
  const item = (status: string, action?: object) =>
    ({ id: "ws_1", type: "web_search_call", status, ...(action ? { action } : {}) }) as never;

  function run(events: object[]): LogPart[] {
    const sink = partsSink();
    for (const event of events) webSearchEvent(event as ResponseStreamEvent as never, sink);
    return sink.parts;
  }

  test("a failed search is a failed step; one the stream left running ends incomplete", () => {
    const failed = run([
      { type: "response.output_item.added", sequence_number: 1, item: item("in_progress") },
      {
        type: "response.output_item.done",
        sequence_number: 2,
        item: item("failed", { type: "search", query: "caching" }),
      },
    ]);
    expect(finishedParts(failed, { startedAt: 0, endedAt: 0 })).toEqual([
      { kind: "search", status: "failed", query: "caching" },
    ]);
    const cut = run([
      { type: "response.output_item.added", sequence_number: 1, item: item("in_progress") },
    ]);
    expect(finishedParts(cut, { startedAt: 0, endedAt: 0 })).toEqual([
      { kind: "search", status: "incomplete" },
    ]);
  });

  test("only http(s) sources are kept, titles trimmed; other annotations and items are ignored", () => {
    const annotation = (url: string, title: string, type = "url_citation") => ({
      type: "response.output_text.annotation.added",
      sequence_number: 3,
      annotation: { type, url, title, start_index: 0, end_index: 1 },
    });
    const parts = run([
      annotation("javascript:alert(1)", "bad"),
      annotation("https://a.example/x", "  A\n page "),
      annotation("https://a.example/x", "again"),
      annotation("file.pdf", "f", "file_citation"),
      { type: "response.output_item.added", sequence_number: 4, item: { type: "message" } },
    ]);
    expect(finishedParts(parts, { startedAt: 0, endedAt: 0 })).toEqual([
      { kind: "citations", sources: [{ url: "https://a.example/x", title: "A page" }] },
    ]);
  });
});
