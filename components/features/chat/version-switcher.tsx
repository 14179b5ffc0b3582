"use client";

import { useState } from "react";
import { ChevronLeftIcon, ChevronRightIcon } from "@/components/ui/icons";
import type { Id } from "@/convex/_generated/dataModel";
import type { VersionInfo } from "@/lib/message-tree";

const arrow =
  "inline-flex size-6 cursor-pointer items-center justify-center rounded hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500 disabled:cursor-default disabled:opacity-40 disabled:hover:bg-transparent";

/** "2 / 3" with previous/next buttons: moves between the versions of a message. */
export function VersionSwitcher({
  versions,
  onSelect,
}: {
  versions: VersionInfo;
  onSelect: (messageId: Id<"messages">) => Promise<string | null>;
}) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function go(messageId: Id<"messages"> | null) {
    if (messageId === null || busy) return;
    setBusy(true);
    setProblem(await onSelect(messageId));
    setBusy(false);
  }

  const position = `${versions.index + 1} / ${versions.count}`;
  return (
    <div
      data-testid="version-switcher"
      role="group"
      aria-label={`Version ${versions.index + 1} of ${versions.count}`}
      className="inline-flex items-center gap-0.5 text-xs text-muted-foreground tabular-nums"
    >
      <button
        type="button"
        data-testid="previous-version"
        aria-label="Previous version"
        className={arrow}
        disabled={versions.previousId === null || busy}
        onClick={() => void go(versions.previousId)}
      >
        <ChevronLeftIcon className="size-3.5" />
      </button>
      <span data-testid="version-position">{position}</span>
      <button
        type="button"
        data-testid="next-version"
        aria-label="Next version"
        className={arrow}
        disabled={versions.nextId === null || busy}
        onClick={() => void go(versions.nextId)}
      >
        <ChevronRightIcon className="size-3.5" />
      </button>
      {problem && (
        <span role="alert" className="ml-2 text-red-600 dark:text-red-400">
          {problem}
        </span>
      )}
    </div>
  );
}
