"use client";

import { GlobeIcon } from "@/components/ui/icons";
import type { ReplyPart } from "@/lib/reply-parts";
import { cn } from "@/lib/utils";
import { searchStepLabel } from "@/lib/web-search";

/**
 * A reply's web searches, one line each, above its answer: "Searching the web…" while one runs,
 * then "Searched the web: <query>"; a search that failed or was cut short says so.
 */
export function SearchSteps({ parts }: { parts: readonly ReplyPart[] }) {
  const steps = parts.filter((part) => part.kind === "search");
  if (steps.length === 0) return null;
  return (
    <ul data-testid="search-steps" className="flex flex-col gap-1 text-sm text-muted-foreground">
      {steps.map((step, i) => (
        <li
          key={i}
          data-testid="search-step"
          data-state={step.status}
          className={cn(
            "flex min-w-0 items-center gap-1.5",
            step.status === "failed" && "text-amber-700 dark:text-amber-400",
          )}
        >
          <GlobeIcon className="size-3.5 shrink-0" />
          <span className={cn("truncate", step.status === "searching" && "thinking-shimmer")}>
            {searchStepLabel(step)}
          </span>
        </li>
      ))}
    </ul>
  );
}
