#!/usr/bin/env bash
# Runs Convex's own integration suite (npm-packages/tests/js-integration-tests of
# get-convex/convex-backend, unmodified) against this backend with the real clients.
#
#   tools/local-backend/upstream-suite.sh <git dir of a get-convex/convex-backend copy> [jest args]
#
# The suite is taken from commit 57a69075d (2026-04-07, the last one that has it whole; later
# public commits keep only its package.json) into $SUITE_DIR, outside this repository, and its
# dependencies are installed from the npm registry (its `convex` workspace package as the release of
# that commit, 1.34.1). The backend runs in that folder (its convex.json marks every package
# external for Node actions) with the suite's admin key (crates/keybroker/dev/admin_key.txt) on the
# ports the suite expects. SKIP_INSTANCE_SECRET_TESTS=1: the suite's own switch for a deployment
# whose instance secret is not Convex's dev one (an upload token signed with that secret).
# Prints the counts and each failing test; the whole report is in $SUITE_DIR/result.json.
set -euo pipefail
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  echo "upstream-suite.sh needs Node 24 on the PATH (the backend's module hooks)" >&2
  exit 2
fi
REPO=${1:?usage: upstream-suite.sh <convex-backend git dir> [jest args]}
shift
COMMIT=${SUITE_COMMIT:-57a69075d}
SUITE_DIR=${SUITE_DIR:-/tmp/convex-js-integration-tests}
PORT=${PORT:-8000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$SUITE_DIR/node_modules" ]; then
  mkdir -p "$SUITE_DIR"
  git -C "$REPO" archive "$COMMIT" npm-packages/tests/js-integration-tests |
    tar -x -C "$SUITE_DIR" --strip-components=3
  sed -i 's/"convex": "workspace:\*"/"convex": "1.34.1"/' "$SUITE_DIR/package.json"
  (cd "$SUITE_DIR" && npm install --no-audit --no-fund)
fi
KEY=$(git -C "$REPO" show "$COMMIT:crates/keybroker/dev/admin_key.txt")
LOG="$SUITE_DIR/backend.log"
cd "$SUITE_DIR"
"$ROOT/node_modules/.bin/tsx" "$ROOT/tools/local-backend/cli.ts" --port "$PORT" \
  --site-port $((PORT + 1)) --in-memory --no-watch --functions-dir convex --env-file /dev/null \
  --admin-key "$KEY" ${PRODUCTION:+--production} >"$LOG" 2>&1 &
BACKEND=$!
trap 'kill $BACKEND 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "Put this in" "$LOG" && break
  kill -0 $BACKEND 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 1
done
SKIP_INSTANCE_SECRET_TESTS=1 DEPLOYMENT_URL="http://127.0.0.1:$PORT" \
  SITE_URL="http://127.0.0.1:$((PORT + 1))" ADMIN_KEY="$KEY" \
  timeout 1500 npx jest --forceExit --json --outputFile="$SUITE_DIR/result.json" "$@" \
  >"$SUITE_DIR/jest.log" 2>&1 || true
node -e '
  const r = require(process.argv[1]);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  for (const f of r.testResults) {
    if (f.assertionResults.length === 0) console.log(`  suite did not run: ${f.name}`);
    for (const a of f.assertionResults) if (a.status === "failed") console.log(`  - ${a.fullName}`);
  }' "$SUITE_DIR/result.json"
