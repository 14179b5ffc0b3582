"use client";

import { useConvexAuth } from "convex/react";
import { useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { SidebarIcon } from "@/components/ui/icons";
import { useStoredFlag } from "@/components/hooks/use-stored-flag";
import { cn } from "@/lib/utils";
import { ConnectionBanner } from "./connection-banner";
import { GlobalShortcuts } from "./global-shortcuts";
import { HighlightWarmup } from "./highlight-warmup";
import { SessionSidebar } from "./session-sidebar";

const WIDE_SCREEN = "(min-width: 768px)";

/**
 * Signed-in frame: the sessions sidebar beside the chat. From md up it is a column the user can
 * close and reopen (remembered in this browser); on narrow screens it is a drawer.
 */
export function ChatShell({ children }: { children: ReactNode }) {
  const { isAuthenticated, isLoading } = useConvexAuth();
  const router = useRouter();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useStoredFlag("chat.sidebarOpen", true);
  const wide = () => window.matchMedia(WIDE_SCREEN).matches;

  useEffect(() => {
    if (!isLoading && !isAuthenticated) router.replace("/sign-in");
  }, [isLoading, isAuthenticated, router]);

  if (!isAuthenticated) {
    return (
      <div className="flex h-dvh items-center justify-center" aria-busy="true">
        <HighlightWarmup />
        <span className="text-sm text-muted-foreground">Loading…</span>
      </div>
    );
  }

  return (
    <div className="flex h-dvh overflow-hidden">
      <HighlightWarmup />
      {drawerOpen && (
        <button
          type="button"
          aria-label="Close menu"
          className="fixed inset-0 z-40 bg-black/40 md:hidden"
          onClick={() => setDrawerOpen(false)}
        />
      )}
      {/* One sidebar: a drawer on narrow screens, a column from md up. */}
      <aside
        data-testid="sidebar"
        className={cn(
          "fixed inset-y-0 left-0 z-50 w-72 max-w-[85vw] border-r border-border bg-background shadow-xl transition-transform",
          sidebarOpen
            ? "md:static md:z-auto md:w-64 md:translate-x-0 md:bg-muted/40 md:shadow-none"
            : "md:hidden",
          drawerOpen ? "translate-x-0" : "-translate-x-full max-md:invisible",
        )}
      >
        <SessionSidebar
          onNavigate={() => setDrawerOpen(false)}
          onCollapse={() => (wide() ? setSidebarOpen(false) : setDrawerOpen(false))}
        />
      </aside>

      <main className="flex min-w-0 flex-1 flex-col">
        <ConnectionBanner />
        <GlobalShortcuts />
        <header
          className={cn(
            "flex h-12 shrink-0 items-center gap-2 border-b border-border px-3",
            sidebarOpen && "md:hidden",
          )}
        >
          <Button
            variant="ghost"
            size="icon"
            aria-label="Open sidebar"
            title="Open sidebar"
            data-testid="open-sidebar"
            onClick={() => (wide() ? setSidebarOpen(true) : setDrawerOpen(true))}
          >
            <SidebarIcon />
          </Button>
          <span className="text-sm font-semibold">Chat</span>
        </header>
        {children}
      </main>
    </div>
  );
}
