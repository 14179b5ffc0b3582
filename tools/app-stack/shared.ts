import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { SimControls, SimRequestLogEntry, SimulatorOptions } from "../azure-openai-sim";
import { startStack, type StackOptions } from "./index";

/** What a test process needs to reach a stack served by another process (JSON). */
export type SharedStackInfo = {
  appUrl: string;
  backendUrl: string;
  siteUrl: string;
  simUrl: string;
  adminKey: string;
  dataDir: string;
  /** The stack's own control server: settings, the backend's crash and restart, the proxy. */
  controlUrl: string;
};

/** Settings of a shared stack for one test file: over the stack's starting ones, never cumulative. */
export type StackSettings = { env?: Record<string, string>; sim?: SimulatorOptions };

/**
 * A stack started once and used by many test files one after another (`configure` at the start of
 * each): the same parts as `Stack`, reached over HTTP, so the calls that reach the simulator, the
 * backend's process and the proxy are async.
 */
export type SharedStack = {
  appUrl: string;
  backendUrl: string;
  siteUrl: string;
  adminKey: string;
  dataDir: string;
  sim: {
    url: string;
    queueFault(controls: SimControls): Promise<void>;
    requests(): Promise<SimRequestLogEntry[]>;
    /** Lets streams held by `[[sim hold=name]]` go on (the simulator's `release`). */
    release(name: string): Promise<void>;
  };
  proxy: { pause(): Promise<void>; resume(): Promise<void> };
  /** SIGKILLs the backend process: no cleanup runs, as in a crash. */
  killBackend(): Promise<void>;
  /** Starts the backend again on the same ports and data, with the file's settings. */
  restartBackend(): Promise<void>;
  /**
   * These settings and no others over the starting ones: the backend's environment through its
   * admin API (`npx convex env set`'s endpoint), the simulator's options; also forgets queued
   * faults and the simulator's request log.
   */
  configure(settings: StackSettings): Promise<void>;
};

/**
 * Starts a stack with the app behind the traffic proxy and serves its control API on a free
 * loopback port; `close` stops both.
 */
export async function serveSharedStack(
  options: Omit<StackOptions, "proxy">,
): Promise<{ info: SharedStackInfo; close: () => Promise<void> }> {
  const stack = await startStack({ ...options, proxy: true });
  // The file's settings now in force, over the stack's starting environment.
  let env: Record<string, string> = {};
  const setEnv = async (wanted: Record<string, string>) => {
    const valueIn = (settings: Record<string, string>, name: string) =>
      settings[name] ?? stack.env[name];
    const changes = [...new Set([...Object.keys(env), ...Object.keys(wanted)])]
      .filter((name) => valueIn(wanted, name) !== valueIn(env, name))
      .map((name) => ({ name, value: valueIn(wanted, name) }));
    await post(
      `${stack.backendUrl}/api/update_environment_variables`,
      { changes },
      {
        Authorization: `Convex ${stack.adminKey}`,
      },
    );
    env = { ...wanted };
  };
  const actions: Record<string, (body: StackSettings) => Promise<void>> = {
    "/configure": async ({ env: wanted = {}, sim = {} }) => {
      stack.sim.configure(sim);
      stack.sim.resetFaults();
      stack.sim.clearRequests();
      await setEnv(wanted);
    },
    "/kill-backend": () => stack.killBackend(),
    // The file's settings from the restarted backend's first instant (its scheduled jobs run at once).
    "/restart-backend": () => stack.restartBackend(env),
    "/proxy/pause": async () => stack.proxy!.pause(),
    "/proxy/resume": async () => stack.proxy!.resume(),
  };
  const server = createServer((req, res) => {
    const action = req.method === "POST" ? actions[req.url ?? ""] : undefined;
    if (!action) {
      res.writeHead(404).end();
      return;
    }
    readJson(req)
      .then((body) => action(body as StackSettings))
      .then(
        () => res.writeHead(204).end(),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    info: {
      appUrl: stack.appUrl,
      backendUrl: stack.backendUrl,
      siteUrl: stack.siteUrl,
      simUrl: stack.sim.url,
      adminKey: stack.adminKey,
      dataDir: stack.dataDir,
      controlUrl: `http://127.0.0.1:${port}`,
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
    },
  };
}

/** The shared stack described by `info`, as a test process uses it. */
export function sharedStack(info: SharedStackInfo): SharedStack {
  const control = (path: string, body: unknown = {}) =>
    post(`${info.controlUrl}${path}`, body).then(() => undefined);
  return {
    appUrl: info.appUrl,
    backendUrl: info.backendUrl,
    siteUrl: info.siteUrl,
    adminKey: info.adminKey,
    dataDir: info.dataDir,
    sim: {
      url: info.simUrl,
      queueFault: (controls) => post(`${info.simUrl}/_sim/faults`, controls).then(() => undefined),
      requests: async () => (await check(await fetch(`${info.simUrl}/_sim/requests`))).json(),
      release: (name) =>
        post(`${info.simUrl}/_sim/holds/${encodeURIComponent(name)}/release`, {}).then(
          () => undefined,
        ),
    },
    proxy: { pause: () => control("/proxy/pause"), resume: () => control("/proxy/resume") },
    killBackend: () => control("/kill-backend"),
    restartBackend: () => control("/restart-backend"),
    configure: (settings) => control("/configure", settings),
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return check(
    await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
  );
}

async function check(response: Response): Promise<Response> {
  if (!response.ok) {
    throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  }
  return response;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text === "" ? {} : JSON.parse(text);
}
