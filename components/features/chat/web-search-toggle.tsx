"use client";

import { useMutation, useQuery } from "convex/react";
import { GlobeIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { cn } from "@/lib/utils";

/**
 * Whether the chat's next replies may search the web (on the new-chat page: whether new chats
 * start with it), a pressed-or-not button beside the model picker. Its parent shows it only when
 * the chosen model can search.
 */
export function WebSearchToggle({
  sessionId,
  onError,
}: {
  sessionId?: Id<"sessions">;
  onError: (error: unknown) => void;
}) {
  const args = sessionId ? { sessionId } : {};
  const on = useQuery(api.models.webSearchForChat, args);
  const setWebSearch = useMutation(api.models.setWebSearch).withOptimisticUpdate((store, next) => {
    store.setQuery(
      api.models.webSearchForChat,
      next.sessionId ? { sessionId: next.sessionId } : {},
      next.enabled,
    );
  });
  const pressed = on === true;
  return (
    <button
      type="button"
      data-testid="web-search-toggle"
      aria-pressed={pressed}
      disabled={on === undefined}
      title={pressed ? "Replies may search the web" : "Let replies search the web"}
      onClick={() => setWebSearch({ ...args, enabled: !pressed }).catch(onError)}
      className={cn(
        "inline-flex h-7 cursor-pointer items-center gap-1 rounded-md border px-2 text-xs outline-none focus-visible:ring-2 focus-visible:ring-blue-500/30 disabled:cursor-default",
        pressed
          ? "border-blue-600 bg-blue-50 text-blue-800 dark:border-blue-400 dark:bg-blue-500/15 dark:text-blue-200"
          : "border-input bg-background text-foreground",
      )}
    >
      <GlobeIcon className="size-3.5" />
      Web search
    </button>
  );
}
