#!/bin/sh
# tests/format_check.sh - every C file the project tracks follows its
# .clang-format (the house style; `make format` applies it).
# usage: format_check.sh <source dir>
set -eu
cd "$1"
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed"; exit 1; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "FAIL: not a git checkout"; exit 1; }
bad=0
for f in $(git ls-files '*.c' '*.h'); do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f"; bad=$((bad + 1)); }
done
[ "$bad" -eq 0 ] || { echo "FAIL: $bad file(s) differ from .clang-format (run make format)"; exit 1; }
echo "ok: $(git ls-files '*.c' '*.h' | wc -l) files follow .clang-format"
