import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // The dev badge sits bottom-left, over the sidebar's sign-out button.
  devIndicators: false,
  // Keep dev and production builds apart so tests can build while `npm run dev` is running.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
};

export default nextConfig;
