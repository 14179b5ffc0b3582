"use client";

import { ConvexAuthProvider } from "@convex-dev/auth/react";
import { ConvexReactClient } from "convex/react";
import { createContext, useContext, type ReactNode } from "react";
import { createConvexClient } from "@/components/providers/convex-connection";

// One client per page load. The URL arrives from the server at request time (not inlined at build
// time) so the same production build can talk to a backend on any port.
let client: ConvexReactClient | null = null;

function getClient(url: string): ConvexReactClient {
  if (client === null || client.url !== url) {
    client = createConvexClient(url);
  }
  return client;
}

const SiteUrlContext = createContext<string | null>(null);

/** The Convex HTTP actions origin (images are served there). */
export function useConvexSiteUrl(): string {
  const siteUrl = useContext(SiteUrlContext);
  if (siteUrl === null) throw new Error("useConvexSiteUrl outside ConvexClientProvider");
  return siteUrl;
}

export function ConvexClientProvider({
  url,
  siteUrl,
  children,
}: {
  url: string;
  siteUrl: string;
  children: ReactNode;
}) {
  return (
    <SiteUrlContext value={siteUrl}>
      <ConvexAuthProvider client={getClient(url)}>{children}</ConvexAuthProvider>
    </SiteUrlContext>
  );
}
