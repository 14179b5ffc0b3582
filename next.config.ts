import type { NextConfig } from "next";
import { STATIC_SECURITY_HEADERS } from "./lib/security-headers";
import { readSetting } from "./lib/settings";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // The dev badge sits bottom-left, over the sidebar's sign-out button.
  devIndicators: false,
  // Keep dev and production builds apart so tests can build while `npm run dev` is running.
  distDir: readSetting(process.env, "NEXT_DIST_DIR"),
  // Every response; each page's Content-Security-Policy comes from proxy.ts.
  headers: async () => [{ source: "/:path*", headers: STATIC_SECURITY_HEADERS }],
  poweredByHeader: false,
};

export default nextConfig;
