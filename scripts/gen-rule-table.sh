#!/bin/sh
# scripts/gen-rule-table.sh - regenerates the rule table of docs/verifier.md
# from `wdmsim rules --long` (the catalogue itself) and a grep of tests/ for
# each fixture's name (which test runs it), so the table stays true.
#
#   scripts/gen-rule-table.sh [--check] [WDMSIM]
#
# WDMSIM is the built command (default: build/wdmsim, or $WDMSIM_BIN).
# The table replaces the lines between the markers
#   <!-- rule-table begin --> and <!-- rule-table end -->
# in docs/verifier.md. --check writes nothing and exits 1 when the table in
# the file differs from the catalogue (for CI).
set -e

root=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "$1" = "--check" ]; then
    check=1
    shift
fi
bin=${1:-${WDMSIM_BIN:-$root/build/wdmsim}}
doc=$root/docs/verifier.md
[ -x "$bin" ] || { echo "gen-rule-table: $bin is not an executable (build first)" >&2; exit 2; }
[ -f "$doc" ] || { echo "gen-rule-table: $doc missing" >&2; exit 2; }

tmp=$(mktemp)
table=$(mktemp)
trap 'rm -f "$tmp" "$table"' EXIT

"$bin" rules --long 2>/dev/null | tail -n +2 > "$tmp"

{
    echo "| Rule | Stop | Subcode | Option | Action | Fixture | Checked by |"
    echo "|---|---|---|---|---|---|---|"
    while IFS='	' read -r id code sub opt action fixture text; do
        name=${fixture##*/}
        tests="—"
        if [ -n "$name" ] && [ "$fixture" != "-" ]; then
            # Tests name a fixture by its folder name, in quotes.
            found=$(cd "$root" && grep -rlF "\"$name\"" tests --include='*.c' 2>/dev/null |
                grep -v '^tests/fixtures/' | sort | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
            [ -n "$found" ] && tests=$found
        fi
        fx="—"
        [ "$fixture" != "-" ] && fx="\`${fixture#tests/fixtures/}\`"
        echo "| \`$id\` | $code | $sub | $opt | $action | $fx | $tests |"
    done < "$tmp"
} > "$table"

out=$(mktemp)
trap 'rm -f "$tmp" "$table" "$out"' EXIT
awk -v table="$table" '
    /<!-- rule-table begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
    /<!-- rule-table end -->/ { skip = 0 }
    !skip { print }
' "$doc" > "$out"

if [ $check = 1 ]; then
    if cmp -s "$out" "$doc"; then
        exit 0
    fi
    echo "gen-rule-table: docs/verifier.md is out of date: run scripts/gen-rule-table.sh" >&2
    exit 1
fi
cp "$out" "$doc"
echo "gen-rule-table: $(wc -l < "$tmp") rules written to docs/verifier.md"
