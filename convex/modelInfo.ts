import { v } from "convex/values";
import { query } from "./_generated/server";
import { isSimulatedModel, readProviderConfig } from "./lib/llm/config";

/** Which model replies come from, so the UI can say when it is the simulator. Holds no secrets. */
export const get = query({
  args: {},
  returns: v.object({
    provider: v.union(
      v.literal("azure"),
      v.literal("azure-entra"),
      v.literal("openai-compatible"),
      v.literal("none"),
    ),
    simulated: v.boolean(),
    model: v.optional(v.string()),
  }),
  handler: async () => {
    const config = readProviderConfig();
    const simulated = isSimulatedModel();
    if (config.kind === "none") return { provider: config.kind, simulated };
    return config.model === undefined
      ? { provider: config.kind, simulated }
      : { provider: config.kind, simulated, model: config.model };
  },
});
