#!/usr/bin/env bash
# Install the npm tools the suite runs (tests/node/package.json, pinned by its lock)
# into a cache directory outside the repository, and print that directory.
# Idempotent: nothing is downloaded while the installed lock matches this one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${HANDOFF_NODE_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/handoff/node-tools}"
if ! command -v npm >/dev/null; then
  echo "npm not found: the OIDC and codegen tests will skip" >&2
  exit 0
fi
mkdir -p "$dest"
if ! cmp -s "$here/package-lock.json" "$dest/package-lock.json" || [ ! -d "$dest/node_modules" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
echo "$dest"
