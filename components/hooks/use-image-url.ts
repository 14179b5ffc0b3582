"use client";

import { useAuthToken } from "@convex-dev/auth/react";
import { useEffect, useRef, useState } from "react";
import { useConvexSiteUrl } from "@/components/providers/convex-client-provider";

export type ImageUrl = { url: string; failed: false } | { url: null; failed: boolean };

/**
 * An object URL for an image served by the deployment's HTTP actions at `path` (Convex storage
 * URLs are public once handed out, so the bytes come through a route that checks the caller).
 * With `signedIn`, the request carries the viewer's token; the URL is revoked on unmount.
 */
export function useImageUrl(path: string, signedIn: boolean): ImageUrl {
  const siteUrl = useConvexSiteUrl();
  const token = useAuthToken();
  // A refreshed token must not refetch an image already shown.
  const tokenRef = useRef(token);
  useEffect(() => {
    tokenRef.current = token;
  }, [token]);
  const ready = !signedIn || token !== null;
  const [state, setState] = useState<ImageUrl>({ url: null, failed: false });

  useEffect(() => {
    if (!ready) return;
    const controller = new AbortController();
    let objectUrl: string | null = null;
    const headers: HeadersInit =
      signedIn && tokenRef.current ? { Authorization: `Bearer ${tokenRef.current}` } : {};
    fetch(`${siteUrl}${path}`, { headers, signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        objectUrl = URL.createObjectURL(await response.blob());
        setState({ url: objectUrl, failed: false });
      })
      .catch(() => {
        if (!controller.signal.aborted) setState({ url: null, failed: true });
      });
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      setState({ url: null, failed: false });
    };
  }, [siteUrl, path, signedIn, ready]);

  return state;
}
