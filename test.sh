#!/usr/bin/env bash
# The project's test command (README): builds in Release and runs every MSTest test in the solution.
# Extra arguments go to `dotnet test`, e.g. `./test.sh --filter "FullyQualifiedName~MLNetForgetting.Tests.Cli"`
# (one folder's tests) or `--no-build` after a Release build.
set -euo pipefail
cd "$(dirname "$0")"
exec dotnet test MLNetForgetting.sln -c Release --logger "console;verbosity=normal" "$@"
