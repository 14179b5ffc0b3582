import type { ChatMessage } from "@/lib/chat-types";

/** What the tree reads of a message (messages.list's, or an export's). */
type TreeNode = { _id: string; parentId?: string | null };

/** Where a message stands among its versions (the messages with the same parent). */
export type VersionInfo<Id extends string = ChatMessage["_id"]> = {
  /** 0-based, oldest first. */
  index: number;
  count: number;
  previousId: Id | null;
  nextId: Id | null;
};

export type VisiblePath<M extends TreeNode = ChatMessage> = {
  /** The conversation on screen, oldest first. */
  messages: M[];
  /** For messages that have other versions. */
  versions: ReadonlyMap<string, VersionInfo<M["_id"]>>;
  /** The selected leaf is older than the loaded pages: load more before showing anything. */
  leafMissing: boolean;
};

/** The parent key of a chat's first message and its edits. */
export const ROOT = "root";

/** The loaded messages as a tree: each one's parent key (null: not known yet) and each key's children. */
export type MessageTree<M extends TreeNode> = {
  byId: ReadonlyMap<string, M>;
  parentKey: ReadonlyMap<string, string | null>;
  /** Oldest first: a message's versions are its parent's children. */
  children: ReadonlyMap<string, M[]>;
};

/**
 * Builds the tree of messages loaded oldest first. A message written before versions (no
 * parentId) follows the message before it; the first loaded one's parent is known only when
 * `allLoaded`.
 */
export function messageTree<M extends TreeNode>(
  oldestFirst: readonly M[],
  allLoaded: boolean,
): MessageTree<M> {
  const byId = new Map(oldestFirst.map((m) => [m._id as string, m]));
  const parentKey = new Map<string, string | null>();
  const children = new Map<string, M[]>();
  oldestFirst.forEach((message, i) => {
    const previous = oldestFirst[i - 1];
    const key =
      message.parentId === null
        ? ROOT
        : message.parentId !== undefined
          ? message.parentId
          : previous !== undefined
            ? previous._id
            : allLoaded
              ? ROOT
              : null;
    parentKey.set(message._id, key);
    if (key !== null) children.set(key, [...(children.get(key) ?? []), message]);
  });
  return { byId, parentKey, children };
}

/**
 * The conversation on screen from the loaded messages (newest first, as messages.list pages them)
 * and the session's selected leaf (null: the newest message): the leaf and its ancestors, up to
 * the first message whose parent is not loaded yet. A message shows only when all its versions are
 * loaded, which holds once its parent is (versions are newer than their parent), or for first
 * messages once the whole chat is. A message written before versions (no parentId) follows the
 * message before it.
 */
export function visiblePath<M extends TreeNode>(
  newestFirst: readonly M[],
  selectedLeafId: string | null,
  allLoaded: boolean,
): VisiblePath<M> {
  const oldestFirst = [...newestFirst].reverse();
  const { byId, parentKey, children } = messageTree(oldestFirst, allLoaded);

  const selected = selectedLeafId === null ? undefined : byId.get(selectedLeafId);
  const leafMissing = selectedLeafId !== null && selected === undefined && !allLoaded;
  const messages: M[] = [];
  const versions = new Map<string, VersionInfo<M["_id"]>>();
  if (leafMissing) return { messages, versions, leafMissing };

  let current = selected ?? oldestFirst.at(-1);
  while (current !== undefined) {
    const key = parentKey.get(current._id) ?? null;
    const known = key === ROOT ? allLoaded : key !== null && byId.has(key);
    if (!known || key === null) break;
    messages.unshift(current);
    const siblings = children.get(key) ?? [];
    const index = siblings.indexOf(current);
    if (siblings.length > 1) {
      versions.set(current._id, {
        index,
        count: siblings.length,
        previousId: siblings[index - 1]?._id ?? null,
        nextId: siblings[index + 1]?._id ?? null,
      });
    }
    current = key === ROOT ? undefined : byId.get(key);
  }
  return { messages, versions, leafMissing };
}
