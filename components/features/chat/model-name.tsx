"use client";

import { useQuery } from "convex/react";
import { api } from "@/convex/_generated/api";

/** A deployment as the model picker names it (its label); its name when it is no longer offered. */
export function ModelName({ name }: { name: string }) {
  const options = useQuery(api.models.list, {});
  const label = options?.models.find((model) => model.name === name)?.label ?? name;
  return (
    <span data-testid="message-model" title={label === name ? undefined : name}>
      {label}
    </span>
  );
}
