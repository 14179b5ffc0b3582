import { NextResponse, type NextRequest } from "next/server";
import { getConvexSiteUrl, getConvexUrl } from "@/lib/env";
import { contentSecurityPolicy } from "@/lib/security-headers";

/**
 * Gives every page request a Content-Security-Policy with a fresh nonce (lib/security-headers.ts).
 * Next.js reads the nonce from the request's policy and puts it on the scripts it renders, so the
 * pages are rendered per request (the root layout is anyway: it reads the Convex URL then).
 */
export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const policy = contentSecurityPolicy({
    nonce,
    convexUrl: getConvexUrl(),
    siteUrl: getConvexSiteUrl(),
    development: process.env.NODE_ENV === "development",
  });
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: [
    {
      // Pages only: static files carry no script, and prefetches are not rendered.
      source: "/((?!_next/static|_next/image|favicon.ico|icon.svg).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
