# shellcheck shell=bash
# Source this file (`. .ci/use-node.sh`) to get Node >= 22.19 on PATH.
# When the system Node is older, Node 24 is installed from the npm registry
# (package `node@24`) into the project-local prefix .toolchain/ and put first on PATH.
_mx_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_mx_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)'
}
if [ -x "$_mx_root/.toolchain/node_modules/node/bin/node" ]; then
  PATH="$_mx_root/.toolchain/node_modules/node/bin:$PATH"
fi
if ! _mx_node_ok; then
  echo "use-node: system node $(node --version 2>/dev/null || echo none) < 22.19; installing node@24 into .toolchain/" >&2
  mkdir -p "$_mx_root/.toolchain"
  (cd "$_mx_root/.toolchain" && npm install --prefix . --no-save --no-package-lock --loglevel=error node@24 >&2) || return 1 2>/dev/null || exit 1
  PATH="$_mx_root/.toolchain/node_modules/node/bin:$PATH"
  _mx_node_ok || { echo "use-node: node@24 install did not give a usable node" >&2; return 1 2>/dev/null || exit 1; }
fi
export PATH
unset -f _mx_node_ok
unset _mx_root
