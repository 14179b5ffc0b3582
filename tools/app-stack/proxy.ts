import { connect, createServer, type Socket } from "node:net";

/** A loopback TCP proxy whose traffic can be stopped without closing a connection. */
export type TrafficProxy = {
  /** e.g. http://127.0.0.1:41234, in front of the target. */
  url: string;
  /**
   * Stops passing bytes either way on every connection, open and new, as a dead network does
   * that neither end is told of (no FIN, no RST): bytes wait in the proxy until `resume`.
   */
  pause: () => void;
  resume: () => void;
  close: () => Promise<void>;
};

/** Starts a proxy on a free 127.0.0.1 port to `targetPort` on 127.0.0.1. */
export async function startTrafficProxy(targetPort: number): Promise<TrafficProxy> {
  let paused = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const relay = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => {
      if (paused) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on("end", () => (paused ? held.push(() => to.end()) : to.end()));
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
