import type { FunctionReturnType } from "convex/server";
import type { api } from "@/convex/_generated/api";

/** One message as `api.messages.list` returns it. */
export type ChatMessage = FunctionReturnType<typeof api.messages.list>["page"][number];
