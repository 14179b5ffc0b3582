import { ConvexHttpClient } from "convex/browser";
import { api } from "../../convex/_generated/api";

/**
 * A new guest on a running backend (the local backend, or a whole stack's), signed in through
 * Convex Auth's public action as the app does: an HTTP client with the guest's token, and the token.
 */
export async function guestClient(backendUrl: string) {
  const anonymous = new ConvexHttpClient(backendUrl, { logger: false });
  const { tokens } = (await anonymous.action(api.auth.signIn, { provider: "anonymous" })) as {
    tokens: { token: string } | null;
  };
  if (!tokens) throw new Error("anonymous sign-in returned no token");
  const client = new ConvexHttpClient(backendUrl, { logger: false });
  client.setAuth(tokens.token);
  return Object.assign(client, { token: tokens.token });
}
