import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import { ConvexClientProvider } from "@/components/providers/convex-client-provider";
import { getConvexSiteUrl, getConvexUrl } from "@/lib/env";
import "./globals.css";

export const metadata: Metadata = {
  title: "Chat",
  description: "Streaming AI chat on Convex and Azure OpenAI",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#1c1c1c" },
  ],
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Rendered per request: the Convex URL comes from the server's environment at run time.
  await connection();
  return (
    <html lang="en">
      <body className="bg-background text-foreground antialiased">
        <ConvexClientProvider url={getConvexUrl()} siteUrl={getConvexSiteUrl()}>
          {children}
        </ConvexClientProvider>
      </body>
    </html>
  );
}
