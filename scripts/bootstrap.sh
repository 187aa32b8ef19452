#!/usr/bin/env bash
# Installs what manymodels needs from Debian's archive (Debian 12), then configures and builds it in build/.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again (installs only what is missing).
#   scripts/bootstrap.sh [--no-tests] [CMAKE_OPTION...]
# --no-tests: only what the program needs (a compute node: jobs/azure-batch/start-task.sh), built without the
# tests; CMAKE_OPTIONs (-DMANYMODELS_NATIVE=OFF, ...) go to the configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
TESTS=ON
if [ "${1:-}" = "--no-tests" ]; then TESTS=OFF; shift; fi

PACKAGES=(
  cmake make g++ pkg-config
  libopenmpi-dev openmpi-bin                  # Open MPI 4.1
  libhdf5-openmpi-dev hdf5-tools              # parallel HDF5 1.10, h5dump
  libeigen3-dev libceres-dev                  # Eigen 3.4, Ceres 2.1
  libboost-program-options-dev                # options and job files
  zlib1g-dev nlohmann-json3-dev               # gzip CSV; JSON output
  libdeflate-dev                              # the lake's chunks inflated and deflated (libdeflate 1.14)
  libcpp-httplib-dev                          # serve: the HTTP server (cpp-httplib 0.11)
  libsqlite3-dev libpq-dev                    # the predictions SQL table: SQLite, PostgreSQL's client
)
TEST_PACKAGES=(
  libgtest-dev                                # GoogleTest 1.12
  postgresql                                  # sql_test.py starts a throw-away server (initdb, pg_ctl, psql)
  iproute2                                    # two_hosts_test.py: network namespaces as two MPI hosts (ip netns)
  python3 python3-h5py python3-pandas         # integration tests read the HDF5 outputs (h5py; the pandas example)
  chromium fonts-dejavu-core                  # report_test renders the HTML report headless (DOM and screenshot)
  openssh-client                              # azure_batch_test: render.py makes the MPI user's key (ssh-keygen)
  slurm-wlm munge                             # slurm_test: a one-node Slurm 22.05 (slurmctld, slurmd, PMIx; munged)
)
if [ "$TESTS" = ON ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "bootstrap: installing ${missing[*]}" >&2
  # A fresh cloud VM may still be running its own apt for a few minutes: wait for the lock.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMANYMODELS_BUILD_TESTS="$TESTS" "$@" >/dev/null
cmake --build build -j"$jobs"
