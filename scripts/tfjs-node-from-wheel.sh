#!/usr/bin/env bash
# Builds the native addon of @tensorflow/tfjs-node against the TensorFlow C library that ships
# inside the Python `tensorflow-cpu` wheel, for machines where tfjs-node's own install cannot
# download libtensorflow. Lets the tests and benchmarks of @naskit/trainer-tfjs run on a real
# TensorFlow backend.
#
#   bash scripts/tfjs-node-from-wheel.sh
#
# - Installs tensorflow-cpu into a Python venv (NASKIT_TF_VENV, default
#   node_modules/.cache/naskit-tf/venv) from the package index that pip is configured with
#   (`pip config list`: its index URLs and find-links folders; the configured index alone, so
#   pip does not wait on an unreachable public one). The venv's python can run Keras too.
# - Links the wheel's C library and headers into tfjs-node's package folder (deps/) and builds
#   the addon for the one N-API version that tfjs-node loads on this Node.js, against the
#   headers of the Node.js that runs this script.
# - Idempotent: an addon that already loads ends the script at once.
# - Exits 0 with a one-line notice when tfjs-node, python3, the wheel, the Node.js headers or a
#   compiler cannot be had, so it can be called unconditionally.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
start=$SECONDS
log() { echo "tfjs-node-from-wheel: $*"; }
give_up() {
  log "not built: $* (tests on the tensorflow backend will be skipped)"
  exit 0
}

pkg="$(node -e '
  const path = require("node:path")
  try {
    const m = require.resolve("@tensorflow/tfjs-node/package.json", { paths: [process.argv[1]] })
    console.log(path.dirname(m))
  } catch {}
' "$root/packages/trainer-tfjs")"
[ -n "$pkg" ] || give_up "@tensorflow/tfjs-node is not installed"

# The N-API version tfjs-node loads: the highest of its builds that this Node.js supports.
napi="$(node -e '
  const want = require(process.argv[1] + "/package.json").binary.napi_versions
  const have = Number(process.versions.napi)
  console.log(Math.max(...want.filter((v) => v <= have)))
' "$pkg")"
addon="$pkg/lib/napi-v$napi/tfjs_binding.node"

# Loads tfjs-node as a user would and prints the TensorFlow version it runs on.
loads() {
  (cd "$root/packages/trainer-tfjs" && node -e '
    const tfn = require(process.argv[1])
    const b = tfn.backend()
    console.log(b.binding && b.binding.TF_Version ? b.binding.TF_Version : "unknown")
  ' "$pkg" 2>/dev/null)
}

if [ -f "$addon" ] && version="$(loads)"; then
  log "addon already built ($addon, TensorFlow $version); nothing to do"
  exit 0
fi

# 1. tensorflow-cpu in a venv
venv="${NASKIT_TF_VENV:-$root/node_modules/.cache/naskit-tf/venv}"
find_lib() { compgen -G "$venv/lib/python3*/site-packages/tensorflow/libtensorflow_cc.so.2" | head -n1 || true; }
lib="$(find_lib)"
if [ -z "$lib" ]; then
  command -v python3 >/dev/null 2>&1 || give_up "python3 is not installed"
  if [ ! -x "$venv/bin/pip" ]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv" >/dev/null 2>&1 || give_up "python3 -m venv failed (is python3-venv installed?)"
  fi
  # The index URLs and find-links folders of pip's configuration (any scope) and environment.
  indexes=()
  links=()
  while IFS= read -r line; do
    key="${line%%=*}"
    value="${line#*=}"
    value="${value#\'}"
    value="${value%\'}"
    case "$key" in
      *.index-url | *.extra-index-url) for v in $value; do indexes+=("$v"); done ;;
      *.find-links) for v in $value; do [[ " ${links[*]} " == *" $v "* ]] || links+=("$v"); done ;;
    esac
  done < <("$venv/bin/pip" config list 2>/dev/null || true)
  args=(--quiet --disable-pip-version-check --progress-bar off)
  if [ ${#indexes[@]} -gt 0 ]; then
    args+=(--index-url "${indexes[0]}")
    for v in "${indexes[@]:1}"; do args+=(--extra-index-url "$v"); done
  else
    # no index configured: the public one, briefly (it may be unreachable)
    args+=(--timeout 20 --retries 1)
  fi
  for v in "${links[@]}"; do args+=(--find-links "$v"); done
  log "installing tensorflow-cpu into $venv (pip ${args[*]})"
  pip_start=$SECONDS
  "$venv/bin/pip" install "${args[@]}" tensorflow-cpu >"$venv/pip.log" 2>&1 ||
    give_up "pip could not install tensorflow-cpu: $(grep -m1 '^ERROR' "$venv/pip.log" || tail -n1 "$venv/pip.log") (log: $venv/pip.log)"
  log "tensorflow-cpu installed in $((SECONDS - pip_start)) s"
  lib="$(find_lib)"
  [ -n "$lib" ] || give_up "the tensorflow-cpu wheel has no libtensorflow_cc.so.2"
fi
tfdir="$(dirname "$lib")"
[ -f "$tfdir/libtensorflow_framework.so.2" ] && [ -d "$tfdir/include/tensorflow/c" ] ||
  give_up "the tensorflow-cpu wheel in $venv lacks libtensorflow_framework.so.2 or the C headers"

# 2. The wheel's library and headers as tfjs-node's deps/
mkdir -p "$pkg/deps/lib"
ln -sfn "$tfdir/include" "$pkg/deps/include"
# (the addon records the library's own name, libtensorflow_cc.so.2, as it links)
for name in libtensorflow.so libtensorflow.so.2 libtensorflow_cc.so.2; do
  ln -sfn "$lib" "$pkg/deps/lib/$name"
done
for name in libtensorflow_framework.so libtensorflow_framework.so.2; do
  ln -sfn "$tfdir/libtensorflow_framework.so.2" "$pkg/deps/lib/$name"
done

# 3. The headers of the Node.js that runs this script: those beside its binary, else the
# nodedir npm is configured with (npm_config_nodedir, as scripts/check-node.sh sets), if
# either is of the same version. node-gyp would otherwise download them.
node_version="$(node -p 'process.versions.node')"
headers_version() {
  local h="$1/include/node/node_version.h"
  [ -f "$h" ] || return 0
  awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION/ { v = v (v == "" ? "" : ".") $3 } END { print v }' "$h"
}
nodedir=""
for candidate in "$(dirname "$(dirname "$(node -p 'process.execPath')")")" "${npm_config_nodedir:-}" "$(npm config get nodedir 2>/dev/null || true)"; do
  if [ -n "$candidate" ] && [ "$(headers_version "$candidate")" = "$node_version" ]; then
    nodedir="$candidate"
    break
  fi
done
[ -n "$nodedir" ] || give_up "no headers of Node.js $node_version found (beside $(node -p 'process.execPath') or in npm's nodedir)"

# 4. node-gyp: npm's own, else pnpm's
gyp=""
for candidate in \
  "$(dirname "$(dirname "$(readlink -f "$(command -v npm || echo /nonexistent)")")")/node_modules/node-gyp/bin/node-gyp.js" \
  "$(npm root -g 2>/dev/null || true)/npm/node_modules/node-gyp/bin/node-gyp.js" \
  "$(dirname "$(dirname "$(readlink -f "$(command -v pnpm || echo /nonexistent)")")")/dist/node_modules/node-gyp/bin/node-gyp.js"; do
  if [ -f "$candidate" ]; then
    gyp="$candidate"
    break
  fi
done
[ -n "$gyp" ] || give_up "node-gyp not found (it comes with npm)"
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || give_up "make or g++ is not installed"

log "building $addon (N-API $napi, Node.js $node_version headers from $nodedir)"
build_start=$SECONDS
build_log="$(dirname "$venv")/build.log"
(cd "$pkg" && node "$gyp" rebuild --nodedir="$nodedir" --jobs=max \
  --napi_build_version="$napi" --module_name=tfjs_binding --module_path="$pkg/lib/napi-v$napi") \
  >"$build_log" 2>&1 || give_up "the addon did not build (see $build_log)"
version="$(loads)" || give_up "the addon built but does not load (see $build_log)"
log "built in $((SECONDS - build_start)) s; tfjs-node runs on TensorFlow $version ($((SECONDS - start)) s in all)"
