/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as account from "../account.js";
import type * as attachments from "../attachments.js";
import type * as auth from "../auth.js";
import type * as chat from "../chat.js";
import type * as chatExport from "../chatExport.js";
import type * as chatStreaming from "../chatStreaming.js";
import type * as connection from "../connection.js";
import type * as crons from "../crons.js";
import type * as feedback from "../feedback.js";
import type * as guests from "../guests.js";
import type * as http from "../http.js";
import type * as lib_attachmentRoutes from "../lib/attachmentRoutes.js";
import type * as lib_commonPasswords from "../lib/commonPasswords.js";
import type * as lib_documentCheck from "../lib/documentCheck.js";
import type * as lib_env from "../lib/env.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_flushPolicy from "../lib/flushPolicy.js";
import type * as lib_functions from "../lib/functions.js";
import type * as lib_imageCheck from "../lib/imageCheck.js";
import type * as lib_limits from "../lib/limits.js";
import type * as lib_llm_cancel from "../lib/llm/cancel.js";
import type * as lib_llm_chatStream from "../lib/llm/chatStream.js";
import type * as lib_llm_config from "../lib/llm/config.js";
import type * as lib_llm_contentFilter from "../lib/llm/contentFilter.js";
import type * as lib_llm_disclosure from "../lib/llm/disclosure.js";
import type * as lib_llm_documents from "../lib/llm/documents.js";
import type * as lib_llm_generate from "../lib/llm/generate.js";
import type * as lib_llm_images from "../lib/llm/images.js";
import type * as lib_llm_mcpEvents from "../lib/llm/mcpEvents.js";
import type * as lib_llm_mcpServers from "../lib/llm/mcpServers.js";
import type * as lib_llm_providers from "../lib/llm/providers.js";
import type * as lib_llm_replyOutcome from "../lib/llm/replyOutcome.js";
import type * as lib_llm_replyWriter from "../lib/llm/replyWriter.js";
import type * as lib_llm_responsesStream from "../lib/llm/responsesStream.js";
import type * as lib_llm_retry from "../lib/llm/retry.js";
import type * as lib_llm_seam from "../lib/llm/seam.js";
import type * as lib_llm_titles from "../lib/llm/titles.js";
import type * as lib_llm_tokens from "../lib/llm/tokens.js";
import type * as lib_llm_upstream from "../lib/llm/upstream.js";
import type * as lib_pagination from "../lib/pagination.js";
import type * as lib_passwords from "../lib/passwords.js";
import type * as lib_settings from "../lib/settings.js";
import type * as limits from "../limits.js";
import type * as messages from "../messages.js";
import type * as model_approvals from "../model/approvals.js";
import type * as model_attachments from "../model/attachments.js";
import type * as model_conversation from "../model/conversation.js";
import type * as model_feedback from "../model/feedback.js";
import type * as model_guestUpgrade from "../model/guestUpgrade.js";
import type * as model_guests from "../model/guests.js";
import type * as model_limits from "../model/limits.js";
import type * as model_messages from "../model/messages.js";
import type * as model_models from "../model/models.js";
import type * as model_passwordAttempts from "../model/passwordAttempts.js";
import type * as model_preferences from "../model/preferences.js";
import type * as model_search from "../model/search.js";
import type * as model_sessions from "../model/sessions.js";
import type * as model_shares from "../model/shares.js";
import type * as model_streams from "../model/streams.js";
import type * as model_titles from "../model/titles.js";
import type * as model_uploads from "../model/uploads.js";
import type * as model_versions from "../model/versions.js";
import type * as modelInfo from "../modelInfo.js";
import type * as models from "../models.js";
import type * as preferences from "../preferences.js";
import type * as search from "../search.js";
import type * as sessions from "../sessions.js";
import type * as shares from "../shares.js";
import type * as titleWriter from "../titleWriter.js";
import type * as titles from "../titles.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  account: typeof account;
  attachments: typeof attachments;
  auth: typeof auth;
  chat: typeof chat;
  chatExport: typeof chatExport;
  chatStreaming: typeof chatStreaming;
  connection: typeof connection;
  crons: typeof crons;
  feedback: typeof feedback;
  guests: typeof guests;
  http: typeof http;
  "lib/attachmentRoutes": typeof lib_attachmentRoutes;
  "lib/commonPasswords": typeof lib_commonPasswords;
  "lib/documentCheck": typeof lib_documentCheck;
  "lib/env": typeof lib_env;
  "lib/errors": typeof lib_errors;
  "lib/flushPolicy": typeof lib_flushPolicy;
  "lib/functions": typeof lib_functions;
  "lib/imageCheck": typeof lib_imageCheck;
  "lib/limits": typeof lib_limits;
  "lib/llm/cancel": typeof lib_llm_cancel;
  "lib/llm/chatStream": typeof lib_llm_chatStream;
  "lib/llm/config": typeof lib_llm_config;
  "lib/llm/contentFilter": typeof lib_llm_contentFilter;
  "lib/llm/disclosure": typeof lib_llm_disclosure;
  "lib/llm/documents": typeof lib_llm_documents;
  "lib/llm/generate": typeof lib_llm_generate;
  "lib/llm/images": typeof lib_llm_images;
  "lib/llm/mcpEvents": typeof lib_llm_mcpEvents;
  "lib/llm/mcpServers": typeof lib_llm_mcpServers;
  "lib/llm/providers": typeof lib_llm_providers;
  "lib/llm/replyOutcome": typeof lib_llm_replyOutcome;
  "lib/llm/replyWriter": typeof lib_llm_replyWriter;
  "lib/llm/responsesStream": typeof lib_llm_responsesStream;
  "lib/llm/retry": typeof lib_llm_retry;
  "lib/llm/seam": typeof lib_llm_seam;
  "lib/llm/titles": typeof lib_llm_titles;
  "lib/llm/tokens": typeof lib_llm_tokens;
  "lib/llm/upstream": typeof lib_llm_upstream;
  "lib/pagination": typeof lib_pagination;
  "lib/passwords": typeof lib_passwords;
  "lib/settings": typeof lib_settings;
  limits: typeof limits;
  messages: typeof messages;
  "model/approvals": typeof model_approvals;
  "model/attachments": typeof model_attachments;
  "model/conversation": typeof model_conversation;
  "model/feedback": typeof model_feedback;
  "model/guestUpgrade": typeof model_guestUpgrade;
  "model/guests": typeof model_guests;
  "model/limits": typeof model_limits;
  "model/messages": typeof model_messages;
  "model/models": typeof model_models;
  "model/passwordAttempts": typeof model_passwordAttempts;
  "model/preferences": typeof model_preferences;
  "model/search": typeof model_search;
  "model/sessions": typeof model_sessions;
  "model/shares": typeof model_shares;
  "model/streams": typeof model_streams;
  "model/titles": typeof model_titles;
  "model/uploads": typeof model_uploads;
  "model/versions": typeof model_versions;
  modelInfo: typeof modelInfo;
  models: typeof models;
  preferences: typeof preferences;
  search: typeof search;
  sessions: typeof sessions;
  shares: typeof shares;
  titleWriter: typeof titleWriter;
  titles: typeof titles;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
