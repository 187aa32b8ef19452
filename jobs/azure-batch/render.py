#!/usr/bin/env python3
"""Fills in the pool's site-specific values and writes the request bodies to submit to Azure Batch.

    python3 jobs/azure-batch/render.py --nfs-source ACCOUNT.file.core.windows.net:/ACCOUNT/SHARE \\
        --subnet-id /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SNET \\
        --out DIR [--ssh-key FILE]

pool.json's @NFS_SOURCE@, @SUBNET_ID@, @SSH_PRIVATE_KEY@ and @PASSWORD@ are replaced; job.json and the task files
are copied as they are. Without --ssh-key a new key pair (no passphrase: Batch requires none) is made in
DIR/mpi_key; the password is random (no one logs in with it, the REST API requires one). The files are written
readable by their owner only (pool.json holds the key).
"""
import argparse
import json
import os
import re
import secrets
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["pool.json", "job.json", "prepare-task.json", "train-task.json"]
PLACEHOLDER = re.compile(r"^@[A-Z_]+@$")


def fill(value, values):
    """The JSON value with every string that is a placeholder replaced by its value."""
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if isinstance(value, str) and PLACEHOLDER.match(value):
        if value not in values:
            raise SystemExit(f"render.py: no value for {value}")
        return values[value]
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nfs-source", required=True, help="HOST:/PATH of the NFS share (Azure Files NFS, NetApp Files, ...)")
    ap.add_argument("--subnet-id", required=True, help="ARM id of the subnet the nodes join (it reaches the share)")
    ap.add_argument("--ssh-key", help="private key (PEM, no passphrase) of the pool's MPI user; default: a new one")
    ap.add_argument("--out", required=True, help="folder for the filled request bodies")
    a = ap.parse_args()
    if not re.match(r"^[^:/\s]+:/\S*$", a.nfs_source):
        sys.exit(f"render.py: --nfs-source {a.nfs_source!r} is not HOST:/PATH")
    if not re.match(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+"
                    r"/subnets/[^/]+$", a.subnet_id, re.IGNORECASE):
        sys.exit(f"render.py: --subnet-id {a.subnet_id!r} is not /subscriptions/../virtualNetworks/../subnets/..")
    os.makedirs(a.out, exist_ok=True)
    key_file = a.ssh_key
    if key_file is None:
        key_file = os.path.join(a.out, "mpi_key")
        if not os.path.exists(key_file):
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "4096", "-m", "PEM", "-N", "", "-C",
                            "manymodels-mpi", "-f", key_file], check=True)
    with open(key_file) as f:
        key = f.read()
    if "PRIVATE KEY" not in key:
        sys.exit(f"render.py: {key_file} holds no private key")
    values = {"@NFS_SOURCE@": a.nfs_source, "@SUBNET_ID@": a.subnet_id, "@SSH_PRIVATE_KEY@": key,
              "@PASSWORD@": secrets.token_urlsafe(24)}
    for name in FILES:
        with open(os.path.join(HERE, name)) as f:
            body = fill(json.load(f), values)
        path = os.path.join(a.out, name)
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(body, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        print(path)


if __name__ == "__main__":
    main()
