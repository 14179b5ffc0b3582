"use client";

import { ConvexAuthProvider } from "@convex-dev/auth/react";
import { ConvexReactClient } from "convex/react";
import type { ReactNode } from "react";

// One client per page load. The URL arrives from the server at request time (not inlined at build
// time) so the same production build can talk to a backend on any port.
let client: ConvexReactClient | null = null;

function getClient(url: string): ConvexReactClient {
  if (client === null || client.url !== url) {
    client = new ConvexReactClient(url);
  }
  return client;
}

export function ConvexClientProvider({ url, children }: { url: string; children: ReactNode }) {
  return <ConvexAuthProvider client={getClient(url)}>{children}</ConvexAuthProvider>;
}
