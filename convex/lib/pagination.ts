import type { PaginationOptions } from "convex/server";
import { MAX_PAGE_ITEMS } from "../../lib/chat-limits";

// Most bytes one page reads (replies are up to MAX_REPLY_BYTES each): a
// page stays far within a query's limits whatever the client asks for.
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** A client's pagination options held to at most MAX_PAGE_ITEMS items and 8 MiB read. */
export function boundedPage(options: PaginationOptions): PaginationOptions {
  return {
    ...options,
    numItems: Math.min(Math.max(1, Math.floor(options.numItems)), MAX_PAGE_ITEMS),
    maximumBytesRead: Math.min(options.maximumBytesRead ?? MAX_PAGE_BYTES, MAX_PAGE_BYTES),
  };
}
