import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { configuredModels, type ModelOption } from "../lib/llm/config";
import { getPreferences } from "./preferences";

/** The configured model called `name`; anything else (stale, forged) is InvalidArgument. */
export function requireKnownModel(name: string): ModelOption {
  const models = configuredModels();
  const found = models.find((m) => m.name === name);
  if (found === undefined) {
    const known = models.map((m) => `"${m.name}"`).join(", ");
    throw appError(
      "InvalidArgument",
      known === ""
        ? "No model is configured, so none can be chosen."
        : `There is no model called "${name.slice(0, 100)}". Choose one of ${known}.`,
    );
  }
  return found;
}

function stillConfigured(name: string | undefined): string | undefined {
  return name !== undefined && configuredModels().some((m) => m.name === name) ? name : undefined;
}

/** The model a new chat starts with: the user's last choice while it is configured, else the first. */
export async function defaultModelFor(
  ctx: QueryCtx,
  userId: Id<"users">,
): Promise<string | undefined> {
  const preferences = await getPreferences(ctx, userId);
  return stillConfigured(preferences?.lastModel) ?? configuredModels()[0]?.name;
}

/** The model a chat's next reply uses: its choice while configured, else its owner's default. */
export async function chatModel(
  ctx: QueryCtx,
  session: Doc<"sessions">,
): Promise<string | undefined> {
  return stillConfigured(session.model) ?? (await defaultModelFor(ctx, session.userId));
}
