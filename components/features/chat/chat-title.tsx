"use client";

import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";
import { useDocumentTitle } from "@/components/hooks/use-document-title";

/**
 * The chat's title as the page's heading and the browser tab's name, kept live (a generated title
 * or a rename shows at once); an archived chat says so, with Unarchive.
 */
export function ChatTitle({ sessionId }: { sessionId: Id<"sessions"> }) {
  const session = useQuery(api.sessions.get, { sessionId });
  const setListing = useMutation(api.sessions.setListing);
  const [error, setError] = useState<string | null>(null);
  useDocumentTitle(session?.title);

  return (
    <div className="flex min-w-0 flex-1 items-center gap-2">
      <h1 data-testid="chat-title" className="min-w-0 truncate text-sm font-semibold">
        {session?.title ?? ""}
      </h1>
      {session?.listing === "archived" && (
        <>
          <span className="shrink-0 rounded bg-muted px-1.5 py-0.5 text-xs font-medium text-muted-foreground">
            Archived
          </span>
          <Button
            variant="ghost"
            size="sm"
            data-testid="unarchive-chat"
            onClick={() => {
              setError(null);
              setListing({ sessionId, listing: null }).catch((e: unknown) =>
                setError(errorMessage(e)),
              );
            }}
          >
            Unarchive
          </Button>
        </>
      )}
      {error && (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}
