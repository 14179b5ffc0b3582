/**
 * Has `next dev` compile the app's routes before anyone opens them: it compiles a route on its
 * first request, and the chat route took 10-15 s, during which the first message sent looked
 * stuck. Each page is requested once, then the scripts its HTML names and its payload for a
 * client-side navigation, so all of it is built when the launcher says "Ready".
 */

/** The routes a user meets first: sign-in, the new chat, a chat, a shared chat (ids need not exist). */
export const WARM_PATHS = ["/sign-in", "/", "/c/warm-up", "/share/warm-up"];

const SCRIPT_SRC = /<script[^>]+src="([^"]+)"/g;

async function get(url: string, timeoutMs: number, headers: HeadersInit = {}): Promise<string> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  return await response.text();
}

/** Requests each path of `appUrl` and the scripts its page loads, one page at a time; returns the ms taken per path. */
export async function warmRoutes(
  appUrl: string,
  paths: readonly string[] = WARM_PATHS,
  timeoutMs = 180_000,
): Promise<Array<{ path: string; ms: number; error?: string }>> {
  const seen = new Set<string>();
  const timings = [];
  for (const path of paths) {
    const started = performance.now();
    try {
      const html = await get(new URL(path, appUrl).href, timeoutMs);
      const scripts = [...html.matchAll(SCRIPT_SRC)]
        .map((match) => new URL(match[1]!.replaceAll("&amp;", "&"), appUrl).href)
        .filter((src) => src.startsWith(appUrl) && !seen.has(src));
      for (const src of scripts) seen.add(src);
      await Promise.all(scripts.map((src) => get(src, timeoutMs)));
      // The payload a client-side navigation asks for (router.push to a new chat) is built apart.
      await get(new URL(path, appUrl).href, timeoutMs, { RSC: "1" });
      timings.push({ path, ms: Math.round(performance.now() - started) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      timings.push({ path, ms: Math.round(performance.now() - started), error: message });
    }
  }
  return timings;
}
