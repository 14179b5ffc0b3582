"use client";

import { useRouter } from "next/navigation";
import { useShortcut } from "@/components/hooks/use-shortcut";
import { CHAT_INPUT_ID } from "@/lib/shortcuts";

/** The shortcuts that work on every chat page: new chat, and back to the message box. */
export function GlobalShortcuts() {
  const router = useRouter();
  useShortcut("newChat", () => router.push("/"));
  useShortcut("focusInput", () => document.getElementById(CHAT_INPUT_ID)?.focus());
  return null;
}
