import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { authTables } from "@convex-dev/auth/server";
import { rateLimitTables } from "convex-helpers/server/rateLimit";

export const messageRole = v.union(v.literal("user"), v.literal("assistant"));

export const messageStatus = v.union(
  v.literal("pending"),
  v.literal("waiting"),
  v.literal("complete"),
  v.literal("stopped"),
  v.literal("interrupted"),
  v.literal("error"),
);

export const finalStatus = v.union(
  v.literal("complete"),
  v.literal("stopped"),
  v.literal("interrupted"),
  v.literal("error"),
);

export const messageTimings = v.object({
  requestedAt: v.number(),
  // When the model accepted the request (startStreamingMessage; set at finalize).
  startedAt: v.optional(v.number()),
  firstTokenAt: v.optional(v.number()),
  completedAt: v.optional(v.number()),
});

export const tokenUsage = v.object({
  promptTokens: v.number(),
  // Output tokens, thinking included.
  completionTokens: v.number(),
  totalTokens: v.number(),
  reasoningTokens: v.optional(v.number()),
});

// The kinds and stored form of a reply's parts (lib/reply-parts.ts).
export const partKind = v.union(
  v.literal("reasoning"),
  v.literal("text"),
  v.literal("search"),
  v.literal("citations"),
  v.literal("tool"),
  v.literal("approval"),
);

/** A page an answer cites (lib/web-search.ts): an http(s) URL and its title ("" when it has none). */
export const webSource = v.object({ url: v.string(), title: v.string() });

/** An MCP tool call as a finished reply keeps it (lib/tool-calls.ts); `id`: the service's item id. */
export const toolCall = v.object({
  status: v.union(v.literal("completed"), v.literal("failed"), v.literal("incomplete")),
  id: v.optional(v.string()),
  server: v.string(),
  name: v.string(),
  arguments: v.optional(v.string()),
  output: v.optional(v.string()),
  error: v.optional(v.string()),
});

/** A call the model asked to make; `decision` unset: waiting for the user. */
export const toolApproval = v.object({
  id: v.string(),
  server: v.string(),
  name: v.string(),
  arguments: v.string(),
  decision: v.optional(v.union(v.literal("approved"), v.literal("denied"))),
});

export const storedPart = v.union(
  v.object({ kind: v.literal("text"), length: v.number() }),
  v.object({ kind: v.literal("reasoning"), text: v.string(), durationMs: v.optional(v.number()) }),
  v.object({
    kind: v.literal("search"),
    status: v.union(v.literal("completed"), v.literal("failed"), v.literal("incomplete")),
    query: v.optional(v.string()),
  }),
  v.object({ kind: v.literal("citations"), sources: v.array(webSource) }),
  v.object({ kind: v.literal("tool"), ...toolCall.fields }),
  v.object({ kind: v.literal("approval"), ...toolApproval.fields }),
);

// The reasoning efforts a user can pick per chat (lib/reasoning.ts has the deployments' own).
export const reasoningEffort = v.union(v.literal("low"), v.literal("medium"), v.literal("high"));

/** A stretch of a page's (or a range's) text that belongs to one part (lib/reply-parts.ts). */
export const runLength = v.object({
  part: v.number(),
  length: v.number(),
  kind: v.optional(partKind),
  at: v.optional(v.number()),
});

/** An image of a message, as messages.list, share links and export show it (model/attachments.ts). */
export const messageImage = v.object({
  attachmentId: v.id("attachments"),
  fileName: v.string(),
  contentType: v.string(),
  size: v.number(),
  width: v.number(),
  height: v.number(),
});

/**
 * A document of a message (a PDF or a text file), as messages.list, share links and export show
 * it; `pages` when the PDF's structure says (model/attachments.ts).
 */
export const messageFile = v.object({
  attachmentId: v.id("attachments"),
  fileName: v.string(),
  contentType: v.string(),
  size: v.number(),
  pages: v.optional(v.number()),
});

/** Where a chat is listed besides by date: pinned above the others, or in the archive. */
export const sessionListing = v.union(v.literal("pinned"), v.literal("archived"));

/** A reader's verdict on a reply. */
export const feedbackRating = v.union(v.literal("up"), v.literal("down"));

export const attachmentStatus = v.union(
  v.literal("checking"),
  v.literal("ready"),
  v.literal("rejected"),
);

export default defineSchema({
  ...authTables,
  // Convex Auth's users table with one more index: the daily cleanup finds old guests by it.
  users: defineTable(authTables.users.validator)
    .index("email", ["email"])
    .index("phone", ["phone"])
    .index("by_isAnonymous", ["isAnonymous"]),
  ...rateLimitTables,

  // Browsers that signed in to an email with its password: their attempts have a bucket of their
  // own (model/passwordAttempts.ts). `browserKey` hashes the email with the browser's random id.
  trustedBrowsers: defineTable({
    email: v.string(),
    browserKey: v.string(),
    lastSignInAt: v.number(),
  }).index("by_email_and_browserKey", ["email", "browserKey"]),

  sessions: defineTable({
    userId: v.id("users"),
    title: v.string(),
    lastActivityAt: v.number(),
    // The end of the conversation on screen (model/versions.ts); unset: the newest message.
    activeLeafId: v.optional(v.id("messages")),
    // The deployment this chat's replies use (model/models.ts); unset: the user's default.
    model: v.optional(v.string()),
    // The reasoning effort picked for this chat; unset: the user's last pick, else the deployment's.
    reasoningEffort: v.optional(reasoningEffort),
    // Whether this chat's replies may search the web (where its model can); unset: the user's
    // last choice, else off.
    webSearch: v.optional(v.boolean()),
    // Unset: listed by date in the sidebar (model/sessions.ts listSessions).
    listing: v.optional(sessionListing),
  })
    .index("by_userId_and_lastActivityAt", ["userId", "lastActivityAt"])
    .index("by_userId_and_listing_and_lastActivityAt", ["userId", "listing", "lastActivityAt"]),

  // Read by messages.list: written only at send, edit, switch, finalize, stop, continue and
  // regenerate, never once per flush.
  messages: defineTable({
    sessionId: v.id("sessions"),
    // The chat's owner, so that search can filter by user (search indexes filter by equality only).
    userId: v.id("users"),
    role: messageRole,
    content: v.string(),
    // "pending" until the reply is final; its live text is in streamChunks meanwhile.
    status: messageStatus,
    // Derived from status (lib/reply-lifecycle.ts lifecycleFields), for the index below.
    isStreaming: v.boolean(),
    // Bumped by continue/regenerate; the live text is content + this generation's pages.
    generation: v.number(),
    clientRequestId: v.optional(v.string()),
    tokenCount: v.optional(v.number()),
    finishReason: v.optional(v.string()),
    error: v.optional(v.string()),
    timings: v.optional(messageTimings),
    usage: v.optional(tokenUsage),
    // The message this one answers or follows; null for a chat's first message and its edits
    // (roots), unset on messages written before versions existed: their parent is the message
    // before them (model/versions.ts).
    parentId: v.optional(v.union(v.id("messages"), v.null())),
    // Which child the conversation continues with when this message is switched back to; unset:
    // the newest child.
    selectedChildId: v.optional(v.id("messages")),
    // The deployment that wrote an assistant reply.
    model: v.optional(v.string()),
    // A reply's parts when it has more than its answer (lib/reply-parts.ts): unset, the reply is
    // `content` alone. `content` is always the answer (text parts joined).
    parts: v.optional(v.array(storedPart)),
    // The effort a reasoning deployment was asked for (unset: not a reasoning deployment).
    reasoningEffort: v.optional(v.string()),
    // The reply was offered web search (its chat had it on and its deployment allows it).
    webSearch: v.optional(v.boolean()),
    // Of tokenCount, the tokens the model spent thinking.
    reasoningTokens: v.optional(v.number()),
    // A user message's images; an edit lists the ones its version keeps.
    images: v.optional(v.array(messageImage)),
    // A user message's documents (PDFs, text files); an edit lists the ones its version keeps.
    files: v.optional(v.array(messageFile)),
  })
    // Both indexes are needed: this one lists a chat in creation order.
    // eslint-disable-next-line @convex-dev/no-duplicate-indexes
    .index("by_sessionId", ["sessionId"])
    .index("by_sessionId_and_clientRequestId", ["sessionId", "clientRequestId"])
    .index("by_sessionId_and_isStreaming", ["sessionId", "isStreaming"])
    .index("by_parentId", ["parentId"])
    // Final text only: a reply's live text is in streamPages until it is final.
    .searchIndex("search_content", { searchField: "content", filterFields: ["userId"] }),

  // One row per user who saved a setting (model/preferences.ts).
  userPreferences: defineTable({
    userId: v.id("users"),
    customInstructions: v.optional(v.string()),
    // The model last picked: new chats start with it.
    lastModel: v.optional(v.string()),
    // The reasoning effort last picked: new chats start with it.
    lastReasoningEffort: v.optional(reasoningEffort),
    // Web search last turned on or off: new chats start with it.
    lastWebSearch: v.optional(v.boolean()),
  }).index("by_userId", ["userId"]),

  // Writer state of an assistant message: the owner, the per-flush heartbeat, the sequence counter,
  // the reply's size so far and the stop flag live here, so that appends and live-text queries read
  // this small row and never the message, whose text grows with the reply.
  streams: defineTable({
    messageId: v.id("messages"),
    sessionId: v.id("sessions"),
    ownerId: v.id("users"),
    generation: v.number(),
    nextSeq: v.number(),
    /** UTF-8 bytes of the reply: earlier generations' text plus what this one appended. */
    bytes: v.number(),
    active: v.boolean(),
    heartbeatAt: v.number(),
    firstTokenAt: v.optional(v.number()),
    // When the model accepted the request (startStreamingMessage); copied into the message's
    // timings at finalize.
    startedAt: v.optional(v.number()),
    // The part the last chunk belongs to and its kind (lib/reply-parts.ts); unset: 0, text.
    part: v.optional(v.number()),
    partKind: v.optional(partKind),
    // Which writer may write (a fence): bumped when a new writer takes over the same generation
    // (background mode's reattach); every writer call names its attempt. Unset: 0.
    attempt: v.optional(v.number()),
    // The upstream response being streamed (startStreamingMessage), the model that answers and
    // whether it runs in background mode (Azure keeps it; a new writer can reattach to it).
    responseId: v.optional(v.string()),
    upstreamModel: v.optional(v.string()),
    background: v.optional(v.boolean()),
    // The upstream `sequence_number` of the last event whose text is in the chunk log.
    upstreamSeq: v.optional(v.number()),
  })
    .index("by_messageId", ["messageId"])
    .index("by_active_and_heartbeatAt", ["active", "heartbeatAt"]),

  // The live text of a generation, one immutable document per flush (chunk): a viewer follows the
  // newest chunk only, so a flush sends it the new text and nothing else (chatStreaming.ts). The
  // owner is on every chunk and page, so a viewer's query reads these documents alone.
  streamChunks: defineTable({
    messageId: v.id("messages"),
    ownerId: v.id("users"),
    generation: v.number(),
    seq: v.number(),
    text: v.string(),
    // The part this text belongs to (unset: 0); `kind` only on the chunk that opens its part
    // (unset on part 0: text). lib/reply-parts.ts.
    part: v.optional(v.number()),
    kind: v.optional(partKind),
  }).index("by_messageId_and_generation_and_seq", ["messageId", "generation", "seq"]),

  // The same text compacted STREAM_PAGE_SIZE chunks to a page, written once when its last chunk
  // arrives (never rewritten), so finalize, Stop and a reloading viewer read at most
  // MAX_CHUNKS_PER_GENERATION / STREAM_PAGE_SIZE pages plus the chunks of the last, partial page.
  // Chunks and pages are deleted (scheduled) after finalize.
  streamPages: defineTable({
    messageId: v.id("messages"),
    ownerId: v.id("users"),
    generation: v.number(),
    page: v.number(),
    text: v.string(),
    chunkCount: v.number(),
    // How `text` splits into parts (lib/reply-parts.ts); unset: all of it part 0, opening nothing.
    runs: v.optional(v.array(runLength)),
  }).index("by_messageId_and_generation_and_page", ["messageId", "generation", "page"]),

  // A chat's read-only public link (convex/shares.ts): one per chat, `shareId` is its unguessable
  // URL part. `snapshot` names the sharedMessages shown (0 until the first copy is done);
  // `building` is the copy under way, made in batches so a chat of any size fits a transaction.
  shares: defineTable({
    shareId: v.string(),
    sessionId: v.id("sessions"),
    userId: v.id("users"),
    title: v.string(),
    snapshot: v.number(),
    sharedAt: v.number(),
    messageCount: v.number(),
    building: v.optional(
      v.object({
        snapshot: v.number(),
        startedAt: v.number(),
        cursor: v.union(v.string(), v.null()),
        count: v.number(),
      }),
    ),
  })
    .index("by_shareId", ["shareId"])
    .index("by_sessionId", ["sessionId"]),

  // Links that were revoked or whose chat was deleted, so that they say "no longer available"
  // while a link that never existed says "not found". Only the random id is kept.
  revokedShares: defineTable({ shareId: v.string() }).index("by_shareId", ["shareId"]),

  // The copied messages of a share's snapshot, in conversation order.
  sharedMessages: defineTable({
    shareId: v.id("shares"),
    sessionId: v.id("sessions"),
    snapshot: v.number(),
    position: v.number(),
    role: messageRole,
    content: v.string(),
    status: messageStatus,
    createdAt: v.number(),
    images: v.optional(v.array(messageImage)),
    files: v.optional(v.array(messageFile)),
    parts: v.optional(v.array(storedPart)),
  })
    .index("by_shareId_and_snapshot_and_position", ["shareId", "snapshot", "position"])
    .index("by_sessionId", ["sessionId"]),

  // Thumbs up or down on a reply, with an optional comment: one per reply and user
  // (convex/feedback.ts). Deleted with the chat; operators read them with feedback:exportPage.
  feedback: defineTable({
    userId: v.id("users"),
    sessionId: v.id("sessions"),
    messageId: v.id("messages"),
    rating: feedbackRating,
    comment: v.optional(v.string()),
    updatedAt: v.number(),
  })
    .index("by_messageId_and_userId", ["messageId", "userId"])
    .index("by_sessionId", ["sessionId"]),

  // An uploaded image or document (convex/attachments.ts; a document's `contentType` is the one
  // its name gives, lib/chat-limits.ts): "checking" until the inspection action has looked at its
  // bytes, then "ready" or "rejected" (its file deleted). `messageId` is the first message
  // it was sent with (unset: not sent yet, deleted after a day); the files of a chat go with it.
  attachments: defineTable({
    userId: v.id("users"),
    storageId: v.id("_storage"),
    fileName: v.string(),
    contentType: v.string(),
    size: v.number(),
    status: attachmentStatus,
    error: v.optional(v.string()),
    width: v.optional(v.number()),
    height: v.optional(v.number()),
    // A PDF's pages, when its structure shows them without decompressing (lib/documentCheck.ts).
    pages: v.optional(v.number()),
    messageId: v.optional(v.id("messages")),
    sessionId: v.optional(v.id("sessions")),
    createdAt: v.number(),
  })
    .index("by_userId_and_messageId", ["userId", "messageId"])
    .index("by_messageId_and_createdAt", ["messageId", "createdAt"])
    .index("by_storageId", ["storageId"])
    .index("by_sessionId", ["sessionId"]),

  // An upload under way (the POST /attachments route, lib/attachmentRoutes.ts): its declared size
  // is reserved against the user's budgets before a byte is read, and the row becomes the
  // attachment when the file is stored. Convex's upload URLs are not used: each takes any number
  // of files of any size for an hour, and nothing says who stored them.
  uploads: defineTable({
    userId: v.id("users"),
    fileName: v.string(),
    contentType: v.string(),
    size: v.number(),
    startedAt: v.number(),
    expiresAt: v.number(),
  })
    .index("by_userId_and_expiresAt", ["userId", "expiresAt"])
    .index("by_expiresAt", ["expiresAt"]),

  // Bytes of image files a user keeps (attachments whose file exists), against
  // STORED_IMAGES_MB_PER_USER: added when an upload is stored, taken off when its file is deleted.
  imageStorage: defineTable({
    userId: v.id("users"),
    bytes: v.number(),
  }).index("by_userId", ["userId"]),

  // The images of a share's snapshot, so that the shared-image route checks one row.
  sharedAttachments: defineTable({
    shareId: v.id("shares"),
    sessionId: v.id("sessions"),
    snapshot: v.number(),
    attachmentId: v.id("attachments"),
  })
    .index("by_shareId_and_snapshot_and_attachmentId", ["shareId", "snapshot", "attachmentId"])
    .index("by_sessionId", ["sessionId"]),
});
