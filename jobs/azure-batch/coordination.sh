#!/bin/bash
# The coordination command of the training task (train-task.json): Batch runs it on every node of the
# multi-instance task, as the MPI user, before the primary starts mpirun; a node that fails it fails the task
# before any rank starts, with a message naming the node and what it lacks:
# the program (installed by the start task), the job file, and the shared folder holding the lake that the
# prepare task wrote on another node (an empty local folder means the share is not mounted here).
set -euo pipefail
node=$(hostname)
fail() { echo "coordination on $node: $*" >&2; exit 1; }
share="$AZ_BATCH_NODE_MOUNTS_DIR/manymodels"
mm="$MM_PREFIX/bin/manymodels"
job="$MM_PREFIX/share/manymodels/jobs/$MM_JOB"

[ -x "$mm" ] || fail "$mm is missing (did the pool's start task succeed?)"
version=$("$mm" --version) || fail "$mm does not run"
command -v orted >/dev/null || fail "Open MPI's orted is not on PATH (package openmpi-bin)"
[ -r "$job" ] || fail "job file $job is missing"
[ -d "$share" ] && [ -w "$share" ] || fail "$share is not a folder this user ($(id -un)) can write"
# The job file's lake (a common key, before the first section), relative to the shared folder.
lake=$(awk '/^\[/ { exit } /^[ \t]*lake[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]+$/, ""); print }' "$job")
[ -n "$lake" ] || fail "$job names no lake"
case $lake in /*) ;; *) lake="$share/$lake" ;; esac
[ -r "$lake" ] || fail "the lake $lake is not here: is the share mounted on this node?"
echo "coordination on $node: ready ($version, $(nproc) CPUs, lake $lake)"
