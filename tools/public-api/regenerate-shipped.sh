#!/usr/bin/env bash
# Rewrites src/MLNetForgetting/PublicAPI.Shipped.txt from the analyzer's RS0016 messages: empties both API files,
# builds the library (RS0016 names every public symbol in the file's own format), keeps those lines, sorted
# ordinally. Use after a rebase or a deliberate API change, then review the diff of the file.
#   tools/public-api/regenerate-shipped.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=src/MLNetForgetting
printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
log=$(mktemp)
flock /tmp/mlnf-build.lock dotnet build "$dir" -c Release --no-incremental > "$log" 2>&1 || true
{ printf '#nullable enable\n'; grep -o "RS0016: Symbol '.*' is not part of the declared public API" "$log" \
    | sed -E "s/^RS0016: Symbol '(.*)' is not part of the declared public API$/\1/" | LC_ALL=C sort -u; } > "$dir/PublicAPI.Shipped.txt.new"
mv "$dir/PublicAPI.Shipped.txt.new" "$dir/PublicAPI.Shipped.txt"
other=$(grep -E "error (CS|RS)[0-9]+" "$log" | grep -v RS0016 | sort -u || true)
rm -f "$log"
echo "$(($(wc -l < "$dir/PublicAPI.Shipped.txt") - 1)) public API entries in $dir/PublicAPI.Shipped.txt"
if [ -n "$other" ]; then echo "other build errors (fix them and run again):"; echo "$other"; exit 1; fi
