#!/usr/bin/env bash
# A shared libmezo (or libmezo_mpi) must export every public function: each
# one defined in the library's objects outside libmezo's internal namespaces
# (mezo::<abi>::detail, cpu, cuda, model, and anonymous ones, which hold
# everything of src/ and cuda/) must be in the library's dynamic symbol table.
# A public function declared without MEZO_API (or an out-of-line member of a
# struct without it, as TokenBatch::pad and LrSchedule::at once were) fails
# here even if no test happens to call it.
#   exported_symbols.sh NM LIBRARY_SO OBJECT_LIST_FILE
set -euo pipefail
nm=$1 library=$2 object_list=$3
mapfile -t objects <"$object_list"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Global text symbols (T) of the objects, demangled; inline functions and
# template instances are weak (W) and compiled into their users anyway.
"$nm" -C -g --defined-only "${objects[@]}" 2>/dev/null |
  awk '$2 == "T" { $1 = ""; $2 = ""; sub(/^  /, ""); print }' |
  grep '^mezo::' |
  grep -Ev '^mezo::[a-z0-9_]+::(detail|cpu|cuda|model)::|\(anonymous namespace\)' |
  sort -u >"$work/public"
"$nm" -C -D --defined-only "$library" |
  awk '$2 == "T" { $1 = ""; $2 = ""; sub(/^  /, ""); print }' | sort -u >"$work/exported"

count=$(wc -l <"$work/public")
if [ "$count" -eq 0 ]; then
  echo "FAIL: no public function found in ${#objects[@]} objects: is NM ($nm) right?"
  exit 1
fi
missing=$(comm -23 "$work/public" "$work/exported")
if [ -n "$missing" ]; then
  echo "FAIL: public functions that $library does not export (MEZO_API missing?):"
  echo "$missing"
  exit 1
fi
echo "all $count public functions of the objects are exported by $(basename "$library")"
