/**
 * Whether the app can reach its Convex backend, from three signals:
 * - the browser's own: `navigator.onLine` and its offline/online events (a drop it reports);
 * - the Convex client's WebSocket state (a socket that closed and is reconnecting);
 * - a heartbeat for a drop neither notices (a dead Wi-Fi, a proxy that stops passing traffic, a
 *   backend that hangs): the socket stays "open", the Convex client would wait 60 s of silence
 *   before giving up on it. The heartbeat is a round trip through that socket (a probe query), sent
 *   only after the socket has been quiet for a while: QUIET_WHILE_BUSY_MS while the app expects
 *   traffic (a reply streaming on screen, a call in flight), QUIET_WHEN_IDLE_MS otherwise (the
 *   server pings every 15 s, so a healthy idle socket is never that quiet). A probe unanswered
 *   within PROBE_TIMEOUT_MS means the connection is lost until anything arrives again.
 * Pure logic with the clock and the probe passed in (components/hooks/use-connection-lost.ts wires it to
 * the browser and the Convex client), so its timing is tested with fake timers.
 */

/** A socket quiet this long while traffic is expected gets a probe. */
export const QUIET_WHILE_BUSY_MS = 500;
/** A socket quiet this long gets a probe in any case (the server pings every 15 s). */
export const QUIET_WHEN_IDLE_MS = 20_000;
/**
 * A probe unanswered this long means the connection is gone. With QUIET_WHILE_BUSY_MS, a drop
 * mid-reply shows within about 1.3 s, leaving room under 2 s for a busy page's late timers; a
 * network slower than this round trip shows the banner until the answer comes.
 */
export const PROBE_TIMEOUT_MS = 700;
/** A closed socket that has not reconnected after this long is shown: a blip shows nothing. */
export const SOCKET_DOWN_GRACE_MS = 1_000;
/** How often the monitor looks at the clock. */
export const TICK_MS = 100;

/** A round trip to the server: `answered` settles when the answer arrives; `cancel` drops it. */
export type Probe = { answered: Promise<unknown>; cancel: () => void };

export type MonitorDeps = {
  now: () => number;
  /** Starts a round trip through the Convex socket. */
  probe: () => Probe;
};

export class ConnectionMonitor {
  private browserOnline = true;
  private socketUp = true;
  private socketDownSince: number | null = null;
  private lastTickAt: number;
  // Time the page has been responsive since the last frame, and since the probe was sent: a page
  // too busy to run its timers (or to read its socket) is no sign of a lost network.
  private quietFor = 0;
  private expecting = 0;
  private requestsInFlight = false;
  private probe: { waited: number; cancel: () => void } | null = null;
  private unanswered = false;
  private lost = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: MonitorDeps) {
    this.lastTickAt = deps.now();
  }

  /** Whether the app should say the connection is lost. */
  readonly isLost = (): boolean => this.lost;

  /** Calls `listener` whenever isLost() changes; returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Something arrived from the server (any WebSocket frame, its Pings included). */
  frame(): void {
    this.quietFor = 0;
    this.unanswered = false;
    this.endProbe();
    this.update();
  }

  /** The browser's navigator.onLine, or its online/offline event. */
  setBrowserOnline(online: boolean): void {
    this.browserOnline = online;
    this.update();
  }

  /** The Convex client's socket: open (connected once before: a first connect is not a loss). */
  setSocket(up: boolean, inFlight: boolean): void {
    this.requestsInFlight = inFlight;
    if (up === this.socketUp) return;
    this.socketUp = up;
    this.socketDownSince = up ? null : this.deps.now();
    // A socket closing ends its probe; a new one starts a new conversation with the server.
    this.endProbe();
    if (up) {
      this.unanswered = false;
      this.quietFor = 0;
    }
    this.update();
  }

  /** Marks traffic as expected (a reply streaming on screen) until the returned release is called. */
  expectTraffic(): () => void {
    this.expecting += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.expecting -= 1;
    };
  }

  /**
   * Called every TICK_MS: starts a probe after a quiet spell, gives up on one unanswered. Time
   * counts in ticks of at most two TICK_MS, so a page frozen for a while (a long render, a busy
   * machine) does not count the freeze as silence from the server.
   */
  tick(): void {
    const now = this.deps.now();
    const step = Math.min(Math.max(0, now - this.lastTickAt), 2 * TICK_MS);
    this.lastTickAt = now;
    this.quietFor += step;
    if (this.probe !== null) {
      this.probe.waited += step;
      // Unanswered: lost until any frame arrives (the probe's answer included, if it comes late).
      if (this.probe.waited >= PROBE_TIMEOUT_MS) this.unanswered = true;
    } else if (this.socketUp && this.browserOnline && !this.unanswered) {
      const busy = this.expecting > 0 || this.requestsInFlight;
      if (this.quietFor >= (busy ? QUIET_WHILE_BUSY_MS : QUIET_WHEN_IDLE_MS)) this.startProbe();
    }
    this.update();
  }

  private startProbe() {
    const probe = this.deps.probe();
    const entry = { waited: 0, cancel: probe.cancel };
    this.probe = entry;
    void probe.answered.then(
      () => {
        if (this.probe === entry) this.frame();
      },
      () => {
        // A failed probe still came back through the socket.
        if (this.probe === entry) this.frame();
      },
    );
  }

  private endProbe() {
    const probe = this.probe;
    this.probe = null;
    probe?.cancel();
  }

  private update() {
    const socketDown =
      this.socketDownSince !== null &&
      this.deps.now() - this.socketDownSince >= SOCKET_DOWN_GRACE_MS;
    const lost = !this.browserOnline || socketDown || this.unanswered;
    if (lost === this.lost) return;
    this.lost = lost;
    for (const listener of this.listeners) listener();
  }
}
