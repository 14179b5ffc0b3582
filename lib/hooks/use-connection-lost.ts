"use client";

import { useConvex } from "convex/react";
import { useEffect, useState } from "react";

/** How long the connection must stay down before the UI says so: a sub-second blip shows nothing. */
const CONNECTION_LOST_AFTER_MS = 1_000;

/**
 * True while the Convex client, having connected once, has been without its WebSocket for more
 * than CONNECTION_LOST_AFTER_MS; false again the moment it reconnects.
 */
export function useConnectionLost(): boolean {
  const client = useConvex();
  const [lost, setLost] = useState(false);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const update = () => {
      const { hasEverConnected, isWebSocketConnected } = client.connectionState();
      const down = hasEverConnected && !isWebSocketConnected;
      if (!down) {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        setLost(false);
      } else if (timer === null) {
        timer = setTimeout(() => setLost(true), CONNECTION_LOST_AFTER_MS);
      }
    };
    update();
    const unsubscribe = client.subscribeToConnectionState(update);
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [client]);

  return lost;
}
