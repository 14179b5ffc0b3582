import type { NextConfig } from "next";
import { readSetting } from "./lib/settings";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // The dev badge sits bottom-left, over the sidebar's sign-out button.
  devIndicators: false,
  // Keep dev and production builds apart so tests can build while `npm run dev` is running.
  distDir: readSetting(process.env, "NEXT_DIST_DIR"),
};

export default nextConfig;
