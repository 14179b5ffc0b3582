import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConnectionMonitor,
  PROBE_TIMEOUT_MS,
  QUIET_WHEN_IDLE_MS,
  QUIET_WHILE_BUSY_MS,
  SOCKET_DOWN_GRACE_MS,
  TICK_MS,
} from "./connection-monitor";

/** A monitor on a fake clock whose probes the test answers (or not). */
function setup() {
  const probes: Array<{ answer: () => void; cancelled: boolean }> = [];
  const monitor = new ConnectionMonitor({
    now: () => Date.now(),
    probe: () => {
      let answer = () => {};
      const answered = new Promise<void>((resolve) => (answer = resolve));
      const probe = { answer, cancelled: false };
      probes.push(probe);
      return { answered, cancel: () => (probe.cancelled = true) };
    },
  });
  const timer = setInterval(() => monitor.tick(), TICK_MS);
  const lostAt: number[] = [];
  monitor.subscribe(() => {
    if (monitor.isLost()) lostAt.push(Date.now());
  });
  return { monitor, probes, lostAt, stop: () => clearInterval(timer) };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Frames every 50 ms (a reply streaming) for `ms`. */
async function streamFor(monitor: ConnectionMonitor, ms: number) {
  for (let t = 0; t < ms; t += 50) {
    monitor.frame();
    await vi.advanceTimersByTimeAsync(50);
  }
}

describe("the connection monitor", () => {
  it("says lost at once when the browser reports offline, and not lost once it is back", () => {
    const { monitor, stop } = setup();
    monitor.setBrowserOnline(false);
    expect(monitor.isLost()).toBe(true);
    monitor.setBrowserOnline(true);
    expect(monitor.isLost()).toBe(false);
    stop();
  });

  it("says lost when the socket stays closed past the grace period, not for a blip", async () => {
    const { monitor, stop } = setup();
    monitor.setSocket(false, false);
    await vi.advanceTimersByTimeAsync(SOCKET_DOWN_GRACE_MS / 2);
    monitor.setSocket(true, false);
    await vi.advanceTimersByTimeAsync(SOCKET_DOWN_GRACE_MS);
    expect(monitor.isLost()).toBe(false);
    monitor.setSocket(false, false);
    await vi.advanceTimersByTimeAsync(SOCKET_DOWN_GRACE_MS + TICK_MS);
    expect(monitor.isLost()).toBe(true);
    monitor.setSocket(true, false);
    expect(monitor.isLost()).toBe(false);
    stop();
  });

  it("notices a silent drop during a reply within 2 s, and recovers when traffic returns", async () => {
    const { monitor, probes, lostAt, stop } = setup();
    const release = monitor.expectTraffic();
    await streamFor(monitor, 2_000);
    expect(probes).toHaveLength(0);
    const droppedAt = Date.now();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(probes).toHaveLength(1);
    expect(lostAt).toHaveLength(1);
    const delay = lostAt[0]! - droppedAt;
    expect(delay).toBeGreaterThanOrEqual(QUIET_WHILE_BUSY_MS + PROBE_TIMEOUT_MS - TICK_MS);
    expect(delay).toBeLessThanOrEqual(QUIET_WHILE_BUSY_MS + PROBE_TIMEOUT_MS + 2 * TICK_MS);
    // No second probe while the first is unanswered; its late answer ends the loss.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probes).toHaveLength(1);
    probes[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.isLost()).toBe(false);
    expect(probes[0]!.cancelled).toBe(true);
    release();
    stop();
  });

  it("probes a quiet reply (the model thinking) about once a second, and stays calm when answered", async () => {
    const { monitor, probes, lostAt, stop } = setup();
    monitor.expectTraffic();
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(QUIET_WHILE_BUSY_MS + TICK_MS);
      probes.at(-1)?.answer();
    }
    expect(probes.length).toBeGreaterThanOrEqual(8);
    expect(probes.length).toBeLessThanOrEqual(10);
    expect(lostAt).toEqual([]);
    stop();
  });

  it("sends no probe while idle with the server's pings arriving, one after 20 s of silence", async () => {
    const { monitor, probes, stop } = setup();
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      monitor.frame();
    }
    expect(probes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(QUIET_WHEN_IDLE_MS + TICK_MS);
    expect(probes).toHaveLength(1);
    stop();
  });

  it("probes within a second while a call is in flight", async () => {
    const { monitor, probes, stop } = setup();
    monitor.setSocket(true, true);
    await vi.advanceTimersByTimeAsync(QUIET_WHILE_BUSY_MS + TICK_MS);
    expect(probes).toHaveLength(1);
    stop();
  });

  it("does not take a frozen page (a long render, a busy machine) for a silent server", () => {
    let now = 0;
    const probes: number[] = [];
    const monitor = new ConnectionMonitor({
      now: () => now,
      probe: () => {
        probes.push(now);
        return { answered: new Promise(() => {}), cancel: () => {} };
      },
    });
    monitor.expectTraffic();
    now += 5_000; // the page ran no timer for 5 s
    monitor.tick();
    expect(probes).toEqual([]);
    for (let i = 0; i < 5; i++) {
      now += TICK_MS;
      monitor.tick();
    }
    expect(probes).toHaveLength(1);
    now += 5_000; // frozen again while the probe waits: still not lost
    monitor.tick();
    expect(monitor.isLost()).toBe(false);
    for (let i = 0; i < PROBE_TIMEOUT_MS / TICK_MS; i++) {
      now += TICK_MS;
      monitor.tick();
    }
    expect(monitor.isLost()).toBe(true);
  });

  it("keeps saying lost when the dead socket finally closes, until a new one opens", async () => {
    const { monitor, lostAt, stop } = setup();
    monitor.expectTraffic();
    await vi.advanceTimersByTimeAsync(QUIET_WHILE_BUSY_MS + PROBE_TIMEOUT_MS + 2 * TICK_MS);
    expect(monitor.isLost()).toBe(true);
    monitor.setSocket(false, false);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(monitor.isLost()).toBe(true);
    expect(lostAt).toHaveLength(1);
    monitor.setSocket(true, false);
    expect(monitor.isLost()).toBe(false);
    stop();
  });
});
