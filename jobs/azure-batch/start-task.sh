#!/bin/bash
# The pool's start task (pool.json): runs as root on every node when it joins the pool and after a reboot, from
# the source tree unpacked in the start task's folder. Installs the packages from the image's archive (Ubuntu
# uses Debian's package names), builds manymodels without the tests and installs it into $MM_PREFIX, then gives
# the pool's MPI user ($MM_USER) the top folder of the share that Batch has mounted (pool.json's mountConfiguration).
set -euo pipefail
: "${MM_PREFIX:?set by pool.json}" "${MM_USER:?set by pool.json}" "${AZ_BATCH_NODE_MOUNTS_DIR:?set by Batch}"
cd "$(dirname "$0")/../.."

# A portable binary: every node builds its own, and all must compute the same numbers (-march=native would
# tie each node's results to its CPU, and a pool may mix CPU generations of one VM size).
bash scripts/bootstrap.sh --no-tests -DMANYMODELS_NATIVE=OFF
cmake --install build --prefix "$MM_PREFIX"
"$MM_PREFIX/bin/manymodels" --version

# NFS keeps numeric owners: the user has the same uid on every node (pool.json), so this folder is its own on all.
share="$AZ_BATCH_NODE_MOUNTS_DIR/manymodels"
chown "$MM_USER:" "$share"
echo "start task: manymodels in $MM_PREFIX, $share is $MM_USER's"
