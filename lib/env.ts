import { readSetting } from "./settings";

/**
 * The Convex deployment URL, read at request time on the server so one production build works
 * against any backend port (tests start the local backend on a free port).
 */
export function getConvexUrl(): string {
  const url =
    readSetting(process.env, "CONVEX_URL") ?? readSetting(process.env, "NEXT_PUBLIC_CONVEX_URL");
  if (!url) {
    throw new Error(
      "Missing environment variable CONVEX_URL (or NEXT_PUBLIC_CONVEX_URL): the Convex deployment URL. " +
        "`npm run dev` sets it for you.",
    );
  }
  return url;
}

/**
 * The deployment's HTTP actions origin (it serves the images): `CONVEX_SITE_URL` when given (the
 * local backend serves it on a port of its own), else a cloud deployment's `.convex.site` twin.
 */
export function getConvexSiteUrl(): string {
  const given =
    readSetting(process.env, "CONVEX_SITE_URL") ??
    readSetting(process.env, "NEXT_PUBLIC_CONVEX_SITE_URL");
  if (given) return given;
  return getConvexUrl().replace(/\.convex\.cloud\/?$/, ".convex.site");
}
