"use client";

import { useConvex } from "convex/react";
import { useEffect, useSyncExternalStore } from "react";
import { connectionMonitorOf } from "@/components/providers/convex-connection";

const never = () => () => {};

/**
 * True while the backend cannot be reached (lib/connection-monitor.ts: the browser offline, the
 * socket closed for over a second, or a heartbeat unanswered); false again once anything arrives.
 */
export function useConnectionLost(): boolean {
  const monitor = connectionMonitorOf(useConvex());
  return useSyncExternalStore(
    monitor?.subscribe ?? never,
    () => monitor?.isLost() ?? false,
    () => false,
  );
}

/** While `active` (e.g. a reply streams on screen), a quiet connection is checked within a second. */
export function useExpectTraffic(active: boolean) {
  const monitor = connectionMonitorOf(useConvex());
  useEffect(() => (active && monitor ? monitor.expectTraffic() : undefined), [active, monitor]);
}
