"use client";

import { useAuthToken } from "@convex-dev/auth/react";
import { useCallback } from "react";
import { useConvexSiteUrl } from "@/components/providers/convex-client-provider";

/**
 * Saves a file served by the deployment's HTTP actions at `path` under `fileName` (the same routes
 * as images: with `signedIn`, the viewer's token goes with the request, so no link to the bytes
 * ever leaves the page). Resolves to whether it worked.
 */
export function useFileDownload(): (
  path: string,
  fileName: string,
  signedIn: boolean,
) => Promise<boolean> {
  const siteUrl = useConvexSiteUrl();
  const token = useAuthToken();
  return useCallback(
    async (path, fileName, signedIn) => {
      const headers: HeadersInit = signedIn && token ? { Authorization: `Bearer ${token}` } : {};
      try {
        const response = await fetch(`${siteUrl}${path}`, { headers });
        if (!response.ok) return false;
        const url = URL.createObjectURL(await response.blob());
        const link = document.createElement("a");
        link.href = url;
        link.download = fileName;
        link.click();
        // The download has its own copy once started; the URL is not needed after this task.
        setTimeout(() => URL.revokeObjectURL(url), 0);
        return true;
      } catch {
        return false;
      }
    },
    [siteUrl, token],
  );
}
