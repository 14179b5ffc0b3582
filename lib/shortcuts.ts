/** The app's keyboard shortcuts: what each does, its keys, and the one rule matching a key press. */

export type ShortcutAction = "stop" | "newChat" | "focusInput" | "help";

/** The composer's textarea: Esc there still stops a reply (it has no use of its own for Esc). */
export const CHAT_INPUT_ID = "chat-input";

/** Every shortcut, as the help dialog lists them (the composer's own keys included). */
export const SHORTCUTS: { keys: string[]; description: string }[] = [
  { keys: ["Enter"], description: "Send the message" },
  { keys: ["Shift", "Enter"], description: "New line in the message" },
  { keys: ["Esc"], description: "Stop the reply being written" },
  { keys: ["Shift", "Esc"], description: "Focus the message box" },
  { keys: ["Ctrl / ⌘", "Shift", "O"], description: "New chat" },
  { keys: ["?"], description: "Show keyboard shortcuts" },
];

function isEditable(target: EventTarget | null): target is HTMLElement {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

/**
 * Which shortcut a key press is, or null. Keys stay theirs where something else uses them: Esc
 * and `?` do nothing while a dialog or menu is open or in another editing field (renaming a chat
 * uses Esc to cancel), and `?` is typed text in any field.
 */
export function shortcutFor(event: KeyboardEvent): ShortcutAction | null {
  if (event.defaultPrevented || event.isComposing || event.altKey) return null;
  const command = event.ctrlKey || event.metaKey;
  if (command && event.shiftKey && event.key.toLowerCase() === "o") return "newChat";
  if (command) return null;
  const inDialog = document.querySelector("dialog[open], :popover-open") !== null;
  const target = event.target;
  const otherField = isEditable(target) && target.id !== CHAT_INPUT_ID;
  if (event.key === "Escape" && !inDialog && !otherField) {
    return event.shiftKey ? "focusInput" : "stop";
  }
  if (event.key === "?" && !inDialog && !isEditable(target)) return "help";
  return null;
}
