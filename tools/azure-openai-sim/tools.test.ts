import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI, { APIError, BadRequestError } from "openai";
import type { ResponseCreateParamsStreaming } from "openai/resources/responses/responses";
import { startMcpServer, type McpServerHandle } from "../mcp-server";
import { simulatedCitations, simulatedReply, startSimulator, type SimulatorHandle } from "./index";
import { useSimulator } from "./test-helpers";

// Hosted tools in the Responses API against the shapes recorded in public fixtures (cited in the
// README, "Tools"; none is read here): Azure's web_search_preview stream, OpenAI's web_search,
// MCP and MCP-approval streams, Azure's function calls (resp-03).

const TOKENS = 30;
let mcp: McpServerHandle;
let locked: McpServerHandle;

beforeAll(async () => {
  mcp = await startMcpServer();
  locked = await startMcpServer({ token: "secret" });
});
afterAll(async () => {
  await mcp.close();
  await locked.close();
});
const { sim, client } = useSimulator({
  rate: 0,
  ttft: 0,
  tokens: TOKENS,
  reasoningDeployments: ["gpt-5-mini"],
  allowPrivateMcpHosts: true,
});

// Decoded events, walked by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Event = Record<string, Json> & { type: string; sequence_number: number };

async function events(body: object): Promise<Event[]> {
  const params = { model: "gpt-4o", ...body, stream: true } as ResponseCreateParamsStreaming;
  const list: Event[] = [];
  for await (const event of await client().responses.create(params)) list.push(event as Event);
  return list;
}

/** Event names with runs of deltas collapsed. */
const shape = (list: Event[]) =>
  list
    .map((e) => e.type)
    .filter((type, i, all) => !(type.endsWith(".delta") && all[i - 1] === type));

const keysOf = (list: Event[], type: string) =>
  list.filter((e) => e.type === type).map((e) => Object.keys(e));

const mcpTool = (extra: object = {}) => ({
  type: "mcp",
  server_label: "sim",
  server_url: mcp.url,
  require_approval: "never",
  ...extra,
});

const textOf = (list: Event[]) =>
  list.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");

describe("web search", () => {
  it("web_search_preview streams as Azure recorded it: searching, never completed, citations after the text", async () => {
    const input = "Latest news on caching [[sim search=3 untitled=2]]";
    const list = await events({ input, tools: [{ type: "web_search_preview" }] });
    expect(shape(list)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.web_search_call.in_progress",
      "response.web_search_call.searching",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.annotation.added",
      "response.output_text.annotation.added",
      "response.output_text.annotation.added",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const added = list[2]?.item as Record<string, unknown>;
    expect(Object.keys(added)).toEqual(["id", "type", "status", "action"]);
    expect(added).toMatchObject({
      type: "web_search_call",
      status: "in_progress",
      action: { type: "search" },
    });
    expect(String(added.id)).toMatch(/^ws_[0-9a-f]{50}$/);
    expect(keysOf(list, "response.web_search_call.searching")).toEqual([
      ["type", "sequence_number", "output_index", "item_id"],
    ]);
    expect(list[5]?.item).toMatchObject({
      status: "searching",
      action: { type: "search", query: "Latest news on caching" },
    });
    // The text carries each source as a markdown link; each annotation spans its link.
    const text = textOf(list);
    const reply = simulatedReply(input, { tokens: TOKENS, webSearch: true });
    expect(text).toBe(reply.text);
    const citations = simulatedCitations(input);
    const annotations = list.filter((e) => e.type === "response.output_text.annotation.added");
    expect(annotations.map((e) => Object.keys(e))).toEqual(
      annotations.map(() => [
        ...["type", "sequence_number", "item_id", "output_index", "content_index"],
        ...["annotation_index", "annotation"],
      ]),
    );
    annotations.forEach((event, k) => {
      const annotation = event.annotation as Record<string, Json>;
      expect(Object.keys(annotation)).toEqual(["type", "end_index", "start_index", "title", "url"]);
      expect(event.annotation_index).toBe(k);
      const citation = citations[k];
      expect(text.slice(annotation.start_index, annotation.end_index)).toBe(
        `[${citation?.label}](${citation?.url})`,
      );
      expect(annotation.title).toBe(citation?.title);
    });
    // The second source's page has no title: the annotation's title is empty, the link reads as its host.
    expect(citations[1]?.title).toBe("");
    expect(citations[1]?.label).toBe(new URL(citations[1]?.url ?? "").host);
    const done = list.at(-1)?.response.output[1].content[0];
    expect(done.annotations).toHaveLength(3);
  });

  it("web_search streams OpenAI's way: completed, sources when included, each annotation right after its link", async () => {
    const input = "Compare caching strategies [[sim search=2 queries=2]]";
    const list = await events({
      input,
      tools: [{ type: "web_search" }],
      include: ["web_search_call.action.sources"],
    });
    const searches = list.filter(
      (e) => e.type === "response.output_item.done" && e.item.type === "web_search_call",
    );
    expect(searches).toHaveLength(2);
    expect(searches[0]?.item).toMatchObject({
      status: "completed",
      action: {
        type: "search",
        sources: simulatedCitations(input).map(({ url }) => ({ type: "url", url })),
      },
    });
    expect(list.filter((e) => e.type === "response.web_search_call.completed")).toHaveLength(2);
    const types = list.map((e) => e.type);
    const firstAnnotation = types.indexOf("response.output_text.annotation.added");
    expect(types[firstAnnotation - 1]).toBe("response.output_text.delta");
    expect(types.slice(firstAnnotation + 1)).toContain("response.output_text.delta");
  });

  it("a reply that searched, continued without the tool, goes on with its citations' links", async () => {
    const input = "Compare caching strategies [[sim search=2]]";
    const full = simulatedReply(input, { tokens: TOKENS, webSearch: true }).text;
    const partial = full.slice(0, Math.floor(full.length * 0.6));
    const list = await events({
      input: [
        { role: "user", content: input },
        { role: "assistant", content: partial },
        { role: "user", content: "Continue exactly where you stopped." },
      ],
    });
    expect(list.some((e) => e.type.startsWith("response.web_search_call"))).toBe(false);
    expect(partial + textOf(list)).toBe(full);
  });

  it("a search that fails is done failed with its query, and the answer cites nothing", async () => {
    const input = "Compare caching strategies [[sim search=2 toolFault=error]]";
    const list = await events({ input, tools: [{ type: "web_search" }] });
    const done = list.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "web_search_call",
    );
    expect(done?.item).toMatchObject({
      status: "failed",
      action: { type: "search", query: "Compare caching strategies" },
    });
    expect(list.some((e) => e.type === "response.web_search_call.completed")).toBe(false);
    expect(list.some((e) => e.type === "response.output_text.annotation.added")).toBe(false);
    expect(textOf(list)).toBe(simulatedReply(input, { tokens: TOKENS }).text);
  });

  it("without a web search tool the directive does nothing: no search, no links", async () => {
    const input = "News please [[sim search=2]]";
    const list = await events({ input });
    expect(list.some((e) => e.type.startsWith("response.web_search_call"))).toBe(false);
    expect(textOf(list)).toBe(simulatedReply(input, { tokens: TOKENS }).text);
  });
});

describe("remote MCP tools", () => {
  it("lists the server's tools and calls one for real (openai-mcp-tool.1's order and fields)", async () => {
    const input = 'Roll for me [[sim mcp=roll_dice args={"sides":20,"count":2}]]';
    const list = await events({ model: "gpt-5-mini", input, tools: [mcpTool()] });
    expect(shape(list)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.mcp_list_tools.in_progress",
      "response.mcp_list_tools.completed",
      "response.output_item.done",
      "response.output_item.added",
      "response.output_item.done",
      "response.output_item.added",
      "response.mcp_call.in_progress",
      "response.mcp_call_arguments.delta",
      "response.mcp_call_arguments.done",
      "response.mcp_call.completed",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const listed = list[5]?.item;
    expect(Object.keys(listed)).toEqual(["id", "type", "server_label", "tools"]);
    expect(listed.tools.map((t: { name: string }) => t.name)).toEqual([
      "current_time",
      "roll_dice",
      "convert_units",
    ]);
    for (const tool of listed.tools) {
      expect(Object.keys(tool)).toEqual(["annotations", "description", "input_schema", "name"]);
    }
    const call = list.find(
      (e) => e.type === "response.output_item.added" && e.item.type === "mcp_call",
    )?.item;
    expect(Object.keys(call)).toEqual([
      ...["id", "type", "status", "approval_request_id", "arguments", "error", "name"],
      ...["output", "server_label"],
    ]);
    expect(keysOf(list, "response.mcp_call_arguments.delta")).toEqual([
      ["type", "sequence_number", "output_index", "item_id", "delta", "obfuscation"],
    ]);
    expect(keysOf(list, "response.mcp_call.completed")).toEqual([
      ["type", "sequence_number", "output_index", "item_id"],
    ]);
    const done = list.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "mcp_call",
    )?.item;
    expect(done).toMatchObject({
      status: "completed",
      arguments: '{"sides":20,"count":2}',
      error: null,
    });
    expect(done.output).toMatch(/^Rolled 2d20: \d+, \d+ \(total \d+\)$/);
    expect(mcp.calls().at(-1)).toMatchObject({
      name: "roll_dice",
      arguments: { sides: 20, count: 2 },
    });
    expect(textOf(list)).toBe(simulatedReply(input, { tokens: TOKENS }).text);
  });

  it("asks for approval, then calls the tool once approved (mcp-tool-approval.1 and .4), or answers without it when denied (.2)", async () => {
    const input = "What time is it in Paris? [[sim mcp=current_time]]";
    const tools = [mcpTool({ require_approval: "always" })];
    const asked = await events({ input, tools });
    const request = asked.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "mcp_approval_request",
    );
    expect(Object.keys(request?.item)).toEqual(["id", "type", "arguments", "name", "server_label"]);
    expect(request?.item).toMatchObject({
      name: "current_time",
      arguments: '{"timezone":"UTC"}',
      server_label: "sim",
    });
    expect(String(request?.item.id)).toMatch(/^mcpr_/);
    // The response ends on the request: no call, no message.
    expect(asked.at(-1)?.type).toBe("response.completed");
    expect(
      asked.some((e) => e.type === "response.output_item.added" && e.item.type === "message"),
    ).toBe(false);
    const firstId = asked[0]?.response.id;
    const calls = mcp.calls().length;

    const approved = await events({
      input: [
        { type: "item_reference", id: request?.item.id },
        { type: "mcp_approval_response", approval_request_id: request?.item.id, approve: true },
      ],
      previous_response_id: firstId,
      tools,
    });
    const types = approved.map((e) => e.type);
    // As recorded after an approval: mcp_call.in_progress again once the arguments streamed.
    expect(types.filter((t) => t === "response.mcp_call.in_progress")).toHaveLength(2);
    const call = approved.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "mcp_call",
    )?.item;
    expect(call).toMatchObject({ status: "completed", approval_request_id: request?.item.id });
    expect(call.output).toMatch(/\(UTC\)$/);
    expect(mcp.calls()).toHaveLength(calls + 1);
    expect(textOf(approved)).toBe(simulatedReply(input, { tokens: TOKENS }).text);

    const denied = await events({
      input: [
        { type: "mcp_approval_response", approval_request_id: request?.item.id, approve: false },
      ],
      previous_response_id: firstId,
      tools,
    });
    expect(denied.some((e) => e.type.startsWith("response.mcp_call"))).toBe(false);
    expect(mcp.calls()).toHaveLength(calls + 1);
    expect(textOf(denied)).toBe(simulatedReply(input, { tokens: TOKENS }).text);
  });

  it("a tool that fails or times out ends its call failed with an error, and the reply goes on", async () => {
    for (const fault of ["error", "timeout"]) {
      const list = await events({
        input: `Convert [[sim mcp=convert_units toolFault=${fault} toolWait=20]]`,
        tools: [mcpTool()],
      });
      expect(list.filter((e) => e.type === "response.mcp_call.failed")).toHaveLength(1);
      const call = list.find(
        (e) => e.type === "response.output_item.done" && e.item.type === "mcp_call",
      )?.item;
      expect(call).toMatchObject({ status: "failed", output: null });
      expect(call.error).toEqual(expect.any(String));
      expect(list.at(-1)?.type).toBe("response.completed");
    }
    // A tool error the server reports (isError) fails the call with its text.
    const list = await events({
      input: 'Convert [[sim mcp=convert_units args={"value":1,"from":"km","to":"kg"}]]',
      tools: [mcpTool()],
    });
    const call = list.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "mcp_call",
    )?.item;
    expect(call.error).toMatch(/Cannot convert km to kg/);
  });

  it("a server it cannot list is Azure's 424 before any stream: down, unauthorized, or private", async () => {
    const cases: [object, string, SimulatorHandle][] = [
      [mcpTool({ server_url: "http://127.0.0.1:9/mcp" }), "424 (Failed Dependency)", sim()],
      [mcpTool({ server_url: locked.url }), "401 (Unauthorized)", sim()],
      [mcpTool(), "424 (Failed Dependency)", sim()],
    ];
    const strict = await startSimulator({ rate: 0, ttft: 0 });
    try {
      cases[2] = [mcpTool(), "424 (Failed Dependency)", strict];
      for (const [tool, status, target] of cases) {
        const error = await new OpenAI({
          baseURL: `${target.url}/openai/v1/`,
          apiKey: "k",
          maxRetries: 0,
          logLevel: "off",
        }).responses
          .create({ model: "gpt-4o", input: "Hi", stream: true, tools: [tool as never] })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(APIError);
        expect((error as APIError).status).toBe(424);
        expect((error as APIError).error).toEqual({
          message: `Error retrieving tool list from MCP server: 'sim'. Http status code: ${status}`,
          type: "external_connector_error",
          param: "tools",
          code: "http_error",
        });
      }
    } finally {
      await strict.close();
    }
    // The server's headers reach it: with the token it lists.
    const list = await events({
      input: "Hi",
      tools: [mcpTool({ server_url: locked.url, headers: { Authorization: "Bearer secret" } })],
    });
    expect(list[2]?.item.type).toBe("mcp_list_tools");
    // ...and the response echoes the tool without them.
    expect(list[0]?.response.tools[0].headers).toBeNull();
    const down = await client()
      .responses.create({
        model: "gpt-4o",
        input: "Hi [[sim mcp=roll_dice toolFault=down]]",
        tools: [mcpTool() as never],
      })
      .catch((e: unknown) => e);
    expect((down as APIError).status).toBe(424);
  });
});

describe("function calls", () => {
  const weather = {
    type: "function" as const,
    name: "get_weather",
    strict: true,
    parameters: {
      type: "object",
      properties: { city: { type: "string", default: "Paris" } },
      required: ["city"],
      additionalProperties: false,
    },
  };

  it("calls the function with argument deltas and ends there (resp-03), then answers its output", async () => {
    const input = "Weather in Paris? [[sim tool=get_weather]]";
    const list = await events({
      model: "gpt-5-mini",
      input,
      tools: [weather],
      reasoning: { summary: "auto" },
    });
    const types = shape(list);
    const at = types.indexOf("response.function_call_arguments.delta");
    expect(types.slice(at - 1, at + 3)).toEqual([
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
    ]);
    expect(types.at(-1)).toBe("response.completed");
    expect(list.at(-1)?.response.output.map((o: { type: string }) => o.type)).toEqual([
      "reasoning",
      "function_call",
    ]);
    const item = list.find(
      (e) => e.type === "response.output_item.done" && e.item.type === "function_call",
    )?.item;
    expect(Object.keys(item)).toEqual(["id", "type", "status", "arguments", "call_id", "name"]);
    expect(item).toMatchObject({
      status: "completed",
      arguments: '{"city":"Paris"}',
      name: "get_weather",
    });
    expect(item.call_id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(keysOf(list, "response.function_call_arguments.done")).toEqual([
      ["type", "sequence_number", "item_id", "output_index", "arguments"],
    ]);
    const deltas = list.filter((e) => e.type === "response.function_call_arguments.delta");
    expect(deltas.map((e) => e.delta).join("")).toBe('{"city":"Paris"}');
    expect(Object.keys(deltas[0] ?? {})).toEqual([
      ...["type", "sequence_number", "item_id", "output_index", "delta", "obfuscation"],
    ]);

    const answered = await client().responses.create({
      model: "gpt-5-mini",
      previous_response_id: list[0]?.response.id,
      input: [{ type: "function_call_output", call_id: item.call_id, output: '{"temp":21}' }],
      tools: [weather],
    });
    expect(answered.output_text).toBe(simulatedReply(input, { tokens: TOKENS }).text);
    // Without the call in the conversation the output answers nothing.
    const orphan = await client()
      .responses.create({
        model: "gpt-4o",
        input: [{ type: "function_call_output", call_id: "call_nope", output: "x" }],
      })
      .catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(BadRequestError);
    expect((orphan as BadRequestError).message).toMatch(
      /No tool call found for function call output with call_id call_nope/,
    );
  });

  it("is consumed by the SDK's stream helper, tool items and annotations included", async () => {
    const final = await client()
      .responses.stream({
        model: "gpt-4o",
        input: "Search it [[sim search=2]]",
        tools: [{ type: "web_search_preview" }],
      })
      .finalResponse();
    expect(final.output.map((o) => o.type)).toEqual(["web_search_call", "message"]);
    const message = final.output[1];
    expect(
      message?.type === "message" &&
        message.content[0]?.type === "output_text" &&
        message.content[0].annotations,
    ).toHaveLength(2);
  });
});

describe("file input", () => {
  const pdf = (pages: number, extra = "") =>
    `data:application/pdf;base64,${Buffer.from(`%PDF-1.4\n${"1 0 obj << /Type /Page >> endobj\n".repeat(pages)}${extra}%%EOF`).toString("base64")}`;
  const text = (content: string, type = "text/plain") =>
    `data:${type};base64,${Buffer.from(content).toString("base64")}`;
  const ask = (files: object[]) =>
    client().responses.create({
      model: "gpt-4o",
      input: [
        {
          role: "user",
          content: [{ type: "input_text", text: "Summarize these" }, ...files] as never,
        },
      ],
    });

  it("reads PDFs and text files: the reply names them and usage bills them", async () => {
    const response = await ask([
      { type: "input_file", filename: "report.pdf", file_data: pdf(3) },
      { type: "input_file", filename: "notes.md", file_data: text("# Notes\n\nSome text.") },
    ]);
    expect(response.output_text.startsWith("I read 2 files: report.pdf, notes.md.\n\n")).toBe(true);
    expect(response.output_text).toBe(
      simulatedReply("Summarize these", { tokens: TOKENS, files: ["report.pdf", "notes.md"] }).text,
    );
    expect(response.usage?.input_tokens).toBeGreaterThan(900);
  });

  it.each([
    [
      "a spreadsheet",
      { filename: "data.xlsx", file_data: text("x") },
      /Expected context stuffing file type to be a supported format: \.art, .* but got \.xlsx\./,
    ],
    [
      "a .pdf that is no PDF",
      { filename: "fake.pdf", file_data: text("not a pdf") },
      /not a valid PDF/,
    ],
    [
      "an encrypted PDF",
      { filename: "locked.pdf", file_data: pdf(1, "trailer << /Encrypt 5 0 R >>\n") },
      /encrypted/,
    ],
    ["a 101-page PDF", { filename: "long.pdf", file_data: pdf(101) }, /has 101 pages; at most 100/],
    [
      "a .txt that is binary",
      {
        filename: "bin.txt",
        file_data: `data:text/plain;base64,${Buffer.from([0, 159, 146, 150]).toString("base64")}`,
      },
      /not a text file/,
    ],
    [
      "file_data that is no data URL",
      { filename: "x.pdf", file_data: "not a data url" },
      /expected a base64 data URL/,
    ],
    [
      "a file without a name",
      { file_data: pdf(1) },
      /Missing required parameter: 'input\[0\]\.content\[1\]\.filename'/,
    ],
  ])("refuses %s with a 400", async (_label, file, message) => {
    const error = await ask([{ type: "input_file", ...file }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toMatch(message);
  });
});
