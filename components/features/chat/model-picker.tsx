"use client";

import { useMutation, useQuery } from "convex/react";
import { useId, useState } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";
import { DEFAULT_EFFORT, effortLabel, PICKER_EFFORTS } from "@/lib/reasoning";
import { WebSearchToggle } from "./web-search-toggle";

/**
 * Which model writes the next reply, how hard a reasoning model thinks and whether it may search
 * the web: the chat's choices, or on the new-chat page the ones new chats start with. Shown when
 * there is more than one model to pick, or the model reasons or can search.
 */
export function ModelPicker({ sessionId }: { sessionId?: Id<"sessions"> }) {
  const options = useQuery(api.models.list, {});
  const chatModel = useQuery(api.models.forChat, sessionId ? { sessionId } : "skip");
  const chat = useQuery(api.sessions.get, sessionId ? { sessionId } : "skip");
  const setForChat = useMutation(api.models.setForChat).withOptimisticUpdate((store, args) => {
    store.setQuery(api.models.forChat, { sessionId: args.sessionId }, args.model);
  });
  const setDefault = useMutation(api.models.setDefault).withOptimisticUpdate((store, args) => {
    const current = store.getQuery(api.models.list, {});
    if (current) store.setQuery(api.models.list, {}, { ...current, defaultModel: args.model });
  });
  const effortArgs = sessionId ? { sessionId } : {};
  const effort = useQuery(api.models.effortForChat, effortArgs);
  const setEffort = useMutation(api.models.setEffort).withOptimisticUpdate((store, args) => {
    store.setQuery(
      api.models.effortForChat,
      args.sessionId ? { sessionId: args.sessionId } : {},
      args.effort,
    );
  });
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const effortId = useId();

  if (!options) return null;
  const value = (sessionId ? chatModel : options.defaultModel) ?? options.models[0]?.name;
  const current = options.models.find((model) => model.name === value);
  const reasons = current?.reasoning === true;
  const searches = current?.webSearch === true;
  // The earlier turns' images are left out of what a text-only model gets: say so.
  const imagesDropped = chat?.hasImages === true && current?.acceptsImages === false;
  if (options.models.length < 2 && !reasons && !searches) return null;
  const shownEffort = effort ?? DEFAULT_EFFORT;
  const efforts: string[] = [...PICKER_EFFORTS];
  if (!efforts.includes(shownEffort)) efforts.push(shownEffort);

  async function chooseEffort(picked: string) {
    setError(null);
    try {
      await setEffort({ ...(sessionId ? { sessionId } : {}), effort: picked });
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  async function choose(model: string) {
    setError(null);
    try {
      if (sessionId) await setForChat({ sessionId, model });
      else await setDefault({ model });
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <div className="mb-2 flex flex-wrap items-center gap-2 text-xs text-muted-foreground">
      {options.models.length > 1 && (
        <>
          <label htmlFor={id}>Model</label>
          <select
            id={id}
            data-testid="model-picker"
            value={value}
            disabled={sessionId !== undefined && chatModel === undefined}
            onChange={(e) => void choose(e.target.value)}
            className={SELECT_CLASS}
          >
            {options.models.map((model) => (
              <option key={model.name} value={model.name}>
                {model.label}
              </option>
            ))}
          </select>
        </>
      )}
      {reasons && (
        <>
          <label htmlFor={effortId}>Thinking effort</label>
          <select
            id={effortId}
            data-testid="effort-picker"
            value={shownEffort}
            disabled={effort === undefined}
            onChange={(e) => void chooseEffort(e.target.value)}
            className={SELECT_CLASS}
          >
            {efforts.map((option) => (
              <option key={option} value={option}>
                {effortLabel(option).replace(/^./, (c) => c.toUpperCase())}
              </option>
            ))}
          </select>
        </>
      )}
      {searches && (
        <WebSearchToggle sessionId={sessionId} onError={(e) => setError(errorMessage(e))} />
      )}
      {imagesDropped && (
        <span
          role="status"
          data-testid="images-not-sent"
          className="text-amber-800 dark:text-amber-300"
        >
          {current.label} does not take images: this chat&apos;s images will not be sent to it.
        </span>
      )}
      {error && (
        <span role="alert" className="text-red-600 dark:text-red-400">
          {error}
        </span>
      )}
    </div>
  );
}

const SELECT_CLASS =
  "h-7 cursor-pointer rounded-md border border-input bg-background px-2 text-xs text-foreground outline-none focus-visible:ring-2 focus-visible:ring-blue-500/30";
