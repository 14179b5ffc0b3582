import type { Browser, Page } from "playwright-core";
import { ASSISTANT_MESSAGE, ChatApp } from "../../tests/e2e/harness/chat-app";

type PageProbe = { sendAt: number; index: number; last: number; samples: Array<[number, number]> };
type WireProbe = { pages: Record<string, string>; frames: Array<[number, number]> };
/** What the probes below keep in the page. */
export type ProbeWindow = Window & {
  __bench?: PageProbe;
  __wire?: WireProbe;
  __longtasks?: Array<[number, number]>;
};

/** Non-whitespace characters: what a reader sees of plain text, however it is wrapped. */
export function visibleLength(text: string): number {
  return text.replace(/\s+/g, "").length;
}

// Plain JavaScript (tsx would add helpers to a serialized function that the page lacks). Before any
// app script, wraps the page's WebSocket to time each live-text frame's arrival, so token-to-screen
// splits into emit-to-frame (simulator, backend, network) and frame-to-DOM (the page).
const WIRE_PROBE = `(() => {
  const wire = { pages: {}, frames: [] };
  window.__wire = wire;
  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") return;
        const t = performance.timeOrigin + performance.now();
        let message;
        try { message = JSON.parse(event.data); } catch { return; }
        if (message.type !== "Transition") return;
        let changed = false;
        for (const m of message.modifications || []) {
          if (m.type === "QueryUpdated" && m.value && typeof m.value.text === "string") {
            // The newest chunk (it has a seq) or a range of chunks the page had missed.
            const key = typeof m.value.seq === "number" ? "c" + m.value.seq : "q" + m.queryId;
            wire.pages[key] = m.value.text;
            changed = true;
          }
        }
        if (changed) {
          let n = 0;
          for (const text of Object.values(wire.pages)) n += text.replace(/\\s+/g, "").length;
          wire.frames.push([t, n]);
        }
      });
    }
  }
  window.WebSocket = ProbedWebSocket;
})();`;

/**
 * Opens the e2e page object (a fresh context), signs in as a guest and finishes one short reply,
 * so later sends measure a warm app. `wireProbe` times each live-text frame at the page's WebSocket.
 */
export async function openWarmChat(
  browser: Browser,
  appUrl: string,
  options: { wireProbe: boolean },
): Promise<ChatApp> {
  const app = await ChatApp.open(browser, appUrl, { saveOnFailure: false });
  // Before any app script runs: the page has not navigated yet.
  if (options.wireProbe) await app.context.addInitScript({ content: WIRE_PROBE });
  await app.signInAsGuest();
  await app.sendAndOpenChat("Warm up please [[sim tokens=5 rate=0 ttft=0]]");
  await app.waitForStatus(app.lastAssistant(), "complete", 60_000);
  return app;
}

/** Records, in the page, each change of the watched reply's visible length and the Enter keydown time. */
export async function installProbe(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const w = window as ProbeWindow;
    if (w.__bench) return;
    const probe: PageProbe = { sendAt: 0, index: -1, last: -1, samples: [] };
    w.__bench = probe;
    document.addEventListener(
      "keydown",
      (event) => {
        const target = event.target;
        if (
          event.key === "Enter" &&
          target instanceof HTMLElement &&
          target.dataset.testid === "chat-input"
        ) {
          probe.sendAt = performance.timeOrigin + event.timeStamp;
        }
      },
      true,
    );
    new MutationObserver(() => {
      if (probe.index < 0) return;
      const content = document
        .querySelectorAll(selector)
        [probe.index]?.querySelector('[data-testid="message-content"]');
      if (!content) return;
      const n = (content.textContent ?? "").replace(/\s+/g, "").length;
      if (n !== probe.last) {
        probe.last = n;
        probe.samples.push([performance.timeOrigin + performance.now(), n]);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, ASSISTANT_MESSAGE);
}
