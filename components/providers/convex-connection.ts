import { ConvexReactClient } from "convex/react";
import { api } from "@/convex/_generated/api";
import { ConnectionMonitor, TICK_MS, type Probe } from "@/lib/connection-monitor";
import { convexLogger } from "@/lib/convex-logger";

const monitors = new WeakMap<ConvexReactClient, ConnectionMonitor>();

/** A round trip through the client's socket: a fresh subscription to connection.ping. */
function probeThrough(client: ConvexReactClient): Probe {
  const watch = client.watchQuery(api.connection.ping, {});
  let unsubscribe = () => {};
  const answered = new Promise<void>((resolve) => {
    unsubscribe = watch.onUpdate(() => resolve());
  });
  return { answered, cancel: () => unsubscribe() };
}

/** The browser's WebSocket, telling the monitor of every frame that arrives. */
function watchedWebSocket(monitor: ConnectionMonitor): typeof WebSocket {
  return class WatchedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", () => monitor.frame());
    }
  };
}

function watchConnection(client: ConvexReactClient, monitor: ConnectionMonitor) {
  const socket = () => {
    const state = client.connectionState();
    monitor.setSocket(
      !state.hasEverConnected || state.isWebSocketConnected,
      state.hasInflightRequests,
    );
  };
  client.subscribeToConnectionState(socket);
  socket();
  monitor.setBrowserOnline(navigator.onLine);
  window.addEventListener("online", () => monitor.setBrowserOnline(true));
  window.addEventListener("offline", () => monitor.setBrowserOnline(false));
  setInterval(() => monitor.tick(), TICK_MS);
}

/**
 * The page's Convex client (one per page load), with the app's logger and, in the browser, its
 * connection monitor (connectionMonitorOf) watching the socket, the browser and a heartbeat.
 */
export function createConvexClient(url: string): ConvexReactClient {
  if (typeof window === "undefined") return new ConvexReactClient(url, { logger: convexLogger() });
  let client: ConvexReactClient | null = null;
  const monitor = new ConnectionMonitor({
    now: () => performance.now(),
    probe: () => probeThrough(client!),
  });
  client = new ConvexReactClient(url, {
    logger: convexLogger(),
    webSocketConstructor: watchedWebSocket(monitor),
  });
  monitors.set(client, monitor);
  watchConnection(client, monitor);
  return client;
}

/** The connection monitor of a client made by createConvexClient (null on the server). */
export function connectionMonitorOf(client: ConvexReactClient): ConnectionMonitor | null {
  return monitors.get(client) ?? null;
}
