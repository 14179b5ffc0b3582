import { v } from "convex/values";
import { optionalAuthQuery } from "./lib/functions";
import { isSimulatedModel, readProviderConfig } from "./lib/llm/config";
import { defaultModelFor } from "./model/models";

/**
 * Which model replies come from, so the UI can say when it is the simulator; null for signed-out
 * visitors, who learn nothing about the deployment.
 */
export const get = optionalAuthQuery({
  args: {},
  returns: v.union(
    v.null(),
    v.object({
      provider: v.union(
        v.literal("azure"),
        v.literal("azure-entra"),
        v.literal("openai-compatible"),
        v.literal("none"),
      ),
      simulated: v.boolean(),
      model: v.optional(v.string()),
    }),
  ),
  handler: async (ctx) => {
    if (ctx.viewerId === null) return null;
    const config = readProviderConfig();
    const simulated = isSimulatedModel();
    // The model a new chat starts with, as models.list says.
    const model = await defaultModelFor(ctx, ctx.viewerId);
    return model === undefined
      ? { provider: config.kind, simulated }
      : { provider: config.kind, simulated, model };
  },
});
