/**
 * The headers every page of the app is served with: a Content-Security-Policy (a fresh nonce per
 * request, set by proxy.ts, which Next.js puts on its own scripts) as a second line of defence
 * should markup ever get into a page, and headers that keep other sites from framing the app,
 * reading its URLs from Referer or sniffing its files. The Convex URLs are read at request time
 * (lib/env.ts), so one build serves any deployment.
 */

/** Headers that do not depend on the request, for every response (next.config.ts). */
export const STATIC_SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Share links carry their secret in the path: no page tells another site its URL.
  { key: "Referrer-Policy", value: "no-referrer" },
  // frame-ancestors says the same to browsers that know CSP; this, to those that do not.
  { key: "X-Frame-Options", value: "DENY" },
  {
    key: "Permissions-Policy",
    value:
      "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), browsing-topics=()",
  },
];

/** `https://x` and its WebSocket twin `wss://x` (the Convex client's sync connection). */
function withWebSocket(url: string): string[] {
  const origin = new URL(url).origin;
  return [origin, origin.replace(/^http/, "ws")];
}

/**
 * The Content-Security-Policy of a page: scripts only with this request's nonce (and what they
 * load), styles from the app's stylesheets (KaTeX's typeset formulas carry style attributes),
 * connections only to the app and its Convex deployment (queries over the WebSocket, images and
 * uploads over the HTTP actions origin), images from the app, or fetched (blob:), workers from
 * the app (the highlighter and the math typesetter), and no framing by any site.
 */
export function contentSecurityPolicy({
  nonce,
  convexUrl,
  siteUrl,
  development = false,
}: {
  nonce: string;
  convexUrl: string;
  siteUrl: string;
  development?: boolean;
}): string {
  const connect = new Set(["'self'", ...withWebSocket(convexUrl), new URL(siteUrl).origin]);
  const directives = {
    "default-src": ["'self'"],
    // React's development build evaluates code to show better errors; production never does.
    "script-src": [
      "'self'",
      `'nonce-${nonce}'`,
      "'strict-dynamic'",
      ...(development ? ["'unsafe-eval'"] : []),
    ],
    // Next.js's development server injects its stylesheets as style elements without the nonce
    // (a nonce would turn 'unsafe-inline' off); production serves them as files.
    "style-src": development ? ["'self'", "'unsafe-inline'"] : ["'self'", `'nonce-${nonce}'`],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "blob:", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": [...connect],
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(" ")}`)
    .join("; ");
}
