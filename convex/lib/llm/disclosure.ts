/**
 * Reply errors that concern the deployment rather than the user (no model configured, a rejected
 * key, a missing deployment, an unreachable endpoint): the user reads that the model is not
 * configured, with a short reference; the server log has the details under that reference,
 * naming the environment variables to check (README, Model configuration).
 */

/** Logs `detail` for the operator and returns `userMessage` with the reference that finds it. */
export function reportToOperator(userMessage: string, detail: string): string {
  const reference = crypto.randomUUID().slice(0, 8);
  console.error(`Reply error ${reference}: ${detail}`);
  return `${userMessage} (Reference ${reference} for the site's operator.)`;
}

/** No model provider is configured at all. */
export const MODEL_NOT_CONFIGURED = "The model is not configured, so the assistant cannot reply.";

/** A provider is configured but cannot be used as configured. */
export const MODEL_MISCONFIGURED =
  "The model is not configured correctly, so the assistant cannot reply.";

/** The deployment's MCP servers (MCP_SERVERS) are configured wrongly. */
export const TOOLS_MISCONFIGURED =
  "The tools of this model are not configured correctly, so the assistant cannot reply.";

/** Azure could not list a remote MCP server's tools (HTTP 424), so no reply was written. */
export const TOOL_SERVER_DOWN =
  "A tool server this model uses could not be reached, so the assistant could not reply. Try again later.";
