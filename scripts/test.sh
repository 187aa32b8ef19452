#!/usr/bin/env bash
# The test command of the README (and of CI): install, build, run every test (unit and integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Open MPI refuses to run as root unless told it may (CI and fresh machines run as root).
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
ctest --test-dir build --output-on-failure -j2 --timeout 900
