/* eslint-disable */
/**
 * Generated `ComponentApi` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type { FunctionReference } from "convex/server";

/**
 * A utility for referencing a Convex component's exposed API.
 *
 * Useful when expecting a parameter like `components.myComponent`.
 * Usage:
 * ```ts
 * async function myFunction(ctx: QueryCtx, component: ComponentApi) {
 *   return ctx.runQuery(component.someFile.someQuery, { ...args });
 * }
 * ```
 */
export type ComponentApi<Name extends string | undefined = string | undefined> =
  {
    lib: {
      deleteFile: FunctionReference<
        "mutation",
        "internal",
        { storageId: string },
        null,
        Name
      >;
      environment: FunctionReference<
        "query",
        "internal",
        { names: Array<string> },
        Record<string, string | null>,
        Name
      >;
      fail: FunctionReference<"mutation", "internal", {}, null, Name>;
      file: FunctionReference<
        "query",
        "internal",
        { storageId: string },
        { url: string | null; size: number } | null,
        Name
      >;
      get: FunctionReference<
        "query",
        "internal",
        { name: string },
        number,
        Name
      >;
      increment: FunctionReference<
        "mutation",
        "internal",
        { name: string; by: number },
        number,
        Name
      >;
      incrementTwice: FunctionReference<
        "mutation",
        "internal",
        { name: string },
        null,
        Name
      >;
      storeText: FunctionReference<
        "action",
        "internal",
        { text: string },
        string,
        Name
      >;
      uploadUrl: FunctionReference<"mutation", "internal", {}, string, Name>;
    };
  };
