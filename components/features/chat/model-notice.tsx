"use client";

import { useQuery } from "convex/react";
import { useState } from "react";
import { InfoIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";

/** Says so when replies come from the bundled simulator, and how to switch to Azure OpenAI. */
export function ModelNotice() {
  const info = useQuery(api.modelInfo.get, {});
  const [open, setOpen] = useState(false);
  if (!info?.simulated) return null;
  return (
    <div
      data-testid="model-notice"
      className="mb-2 rounded-lg border border-amber-200 bg-amber-50 px-3 py-1.5 text-xs text-amber-900 dark:border-amber-500/20 dark:bg-amber-500/10 dark:text-amber-200"
    >
      <div className="flex items-center gap-2">
        <InfoIcon className="size-3.5 shrink-0" />
        <span className="flex-1">
          <strong className="font-semibold">Simulated model.</strong>{" "}
          <span className="max-sm:hidden">
            Replies are generated locally for development, not by Azure OpenAI.
          </span>
        </span>
        <button
          type="button"
          aria-expanded={open}
          onClick={() => setOpen((v) => !v)}
          className="shrink-0 cursor-pointer font-medium underline underline-offset-2 focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          {open ? "Hide" : "Use Azure OpenAI"}
        </button>
      </div>
      {open && (
        <p className="mt-1.5 pl-5.5 leading-5">
          Put <code className="font-mono">AZURE_OPENAI_ENDPOINT</code>,{" "}
          <code className="font-mono">AZURE_OPENAI_DEPLOYMENT</code> and{" "}
          <code className="font-mono">AZURE_OPENAI_API_KEY</code> (or nothing, to sign in with Entra
          ID) in <code className="font-mono">.env.local</code> and restart{" "}
          <code className="font-mono">npm run dev</code>. See the README.
        </p>
      )}
    </div>
  );
}
