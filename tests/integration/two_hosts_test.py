"""Two hosts: `ingest` and `train` with one rank on each of two "hosts" (network namespaces with their own host
names, joined by a veth pair, the ranks talking over TCP as on two cluster nodes; the file system stays shared, as
NFS would be): ingest makes the lake one process makes, its rows exchanged over the link, and train gives the
exports of a one-process run byte for byte, its summary showing the two hosts apart.

Needs root (it creates network and UTS namespaces; /work/shared/HPC.md has the recipe). Where the kernel refuses
them the test fails and says so. Everything it starts (the namespaces, the veth pair, the processes inside them,
the temp folder) is removed on the way out, also on failure, SIGINT, SIGTERM or SIGHUP; namespaces left by a run
killed outright (SIGKILL) are removed by the next run."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

from common import lake_datasets, Checks, run, run_then_clean, workdir

PREFIX = "mm2h"  # namespace and veth names: PREFIX + owner pid + a|b (at most 15 characters, as links need)
SUBNET, ADDRESSES = "10.77.0.0/24", ("10.77.0.1/24", "10.77.0.2/24")


def sh(*cmd, check=True):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def remove_namespace(ns):
    """Kills what runs inside `ns`, then deletes it (its end of the veth pair goes with it)."""
    for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    sh("ip", "netns", "del", ns, check=False)
    sh("ip", "link", "del", ns, check=False)  # only if the pair was left outside a namespace


def remove_stale_namespaces():
    """Namespaces of an earlier run of this test whose process is gone (a run killed with SIGKILL)."""
    listing = sh("ip", "netns", "list", check=False).stdout
    for ns in re.findall(rf"^({PREFIX}(\d+)[ab])\b", listing, re.M):
        if not os.path.exists(f"/proc/{ns[1]}"):
            remove_namespace(ns[0])


def make_hosts(names):
    """Two network namespaces joined by a veth pair, each with an address on SUBNET and its loopback up."""
    sh("ip", "link", "add", names[0], "netns", names[0], "type", "veth", "peer", "name", names[1], "netns", names[1])
    for ns, addr in zip(names, ADDRESSES):
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", addr, "dev", ns)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", ns, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")


def on_host(ns):
    """The command prefix that runs a program on "host" `ns`: its network namespace and a UTS namespace named ns."""
    return ["ip", "netns", "exec", ns, "unshare", "--uts", "--", "/bin/sh", "-c", f'hostname {ns} && exec "$@"', "sh"]


def main(c, d, names):
    c.ok(os.geteuid() == 0, "this test must run as root: it creates network and UTS namespaces (two MPI hosts)")
    for tool in ("ip", "unshare", "hostname"):
        c.ok(shutil.which(tool) is not None, f"{tool} not found (Debian packages iproute2, util-linux, hostname)")
    remove_stale_namespaces()
    for ns in names:
        p = sh("ip", "netns", "add", ns, check=False)
        c.ok(p.returncode == 0, f"the kernel refused a network namespace (ip netns add {ns}: {p.stderr.strip()}); "
                                "this test needs root with CAP_SYS_ADMIN and network namespaces enabled")
    make_hosts(names)
    for ns in names:
        p = subprocess.run([*on_host(ns), "hostname"], capture_output=True, text=True, timeout=30)
        c.ok(p.returncode == 0 and p.stdout.strip() == ns,
             f"the kernel refused a UTS namespace on {ns} (unshare --uts: {p.stderr.strip()}): the two hosts "
             "would share one host name")

    panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
    run(["generate", "--out", panel, "--stores", "4", "--items", "5", "--length", "200", "--seed", "8"])
    run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake])

    # The launcher agent Open MPI calls in place of ssh: `agent HOST COMMAND...` runs the command on that host (its
    # arguments are one shell command line, as ssh takes them).
    agent = os.path.join(d, "agent")
    with open(agent, "w") as f:
        f.write('#!/bin/bash\nh=$1; shift\nexec ip netns exec "$h" unshare --uts /bin/bash -c "hostname $h; $*"\n')
    os.chmod(agent, 0o755)
    hostfile = os.path.join(d, "hosts")
    with open(hostfile, "w") as f:
        f.write("".join(f"{ns} slots=1\n" for ns in names))

    mpi_flags = ["--hostfile", hostfile, "--bind-to", "none", "--mca", "plm_rsh_agent", agent, "--mca", "btl",
                 "tcp,self", "--mca", "btl_tcp_if_include", SUBNET, "--mca", "oob_tcp_if_include", SUBNET]
    # Ingest across the two hosts: each parses half of the input, the rows are exchanged by key over TCP; the
    # same lake as one process's.
    lake2 = os.path.join(d, "lake2.h5")

    def link_bytes():  # sent and received by host b
        stats = f"/sys/class/net/{names[1]}/statistics/"
        return sum(int(sh("ip", "netns", "exec", names[1], "cat", stats + x).stdout) for x in ("tx_bytes", "rx_bytes"))

    before = link_bytes()
    run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake2],
        mpi=2, prefix=on_host(names[0]), env_extra={"PMIX_MCA_gds": "hash"}, timeout=120, mpi_flags=mpi_flags)
    c.ok(lake_datasets(lake2) == lake_datasets(lake), "ingest on two hosts: the same lake as one process")
    # Whichever rank owns the lake's one chunk, the other's half of the 4,000 rows (28 bytes each) crossed the link
    # (75 kB crossed in all when measured, about 56 kB of it the rows).
    crossed = link_bytes() - before
    c.ok(crossed >= 1500 * 28, f"ingest on two hosts: the rows crossed between them ({crossed} bytes)")

    outputs = {}
    for name in ("one", "two"):
        reg, pred, js = (os.path.join(d, f"{x}_{name}") for x in ("reg.h5", "pred.h5", "summary.json"))
        args = ["train", "--lake", lake, "--horizon", "10", "--registry", reg, "--predictions", pred, "--batch", "3",
                "--threads", "1", "--quiet", "--summary-json", js]
        if name == "one":
            train = run(args)
        else:
            train = run(args, mpi=2, prefix=on_host(names[0]), env_extra={"PMIX_MCA_gds": "hash"}, timeout=120,
                        mpi_flags=mpi_flags)
        with open(js) as f:
            summary = json.load(f)
        listing = run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout
        # The version column is the run's id (its time and a random suffix): the one thing two runs must not share.
        c.ok(listing.count("," + summary["run_id"] + ",") == 20, f"{name}: every model has the run id as version")
        outputs[name] = (train.stdout, summary, listing.replace(summary["run_id"], "RUN"),
                         run(["predictions", "export", "--predictions", pred, "--format", "csv"]).stdout)

    text, summary, listing, export = outputs["two"]
    ranks = summary["ranks"]
    c.ok([r["rank"] for r in ranks] == [0, 1], f"two ranks reported: {ranks}")
    c.ok([r["host"] for r in ranks] == list(names), f"rank 0 on {names[0]}, rank 1 on {names[1]}: {ranks}")
    c.ok(all(r["models"] > 0 for r in ranks), f"both hosts fitted models: {ranks}")
    # Rank 1's results reached rank 0 over the link between the hosts: at least its forecasts (horizon x 5 doubles
    # a model) left host b (a host name alone could be set anywhere).
    sent = int(sh("ip", "netns", "exec", names[1], "cat", f"/sys/class/net/{names[1]}/statistics/tx_bytes").stdout)
    c.ok(sent >= ranks[1]["models"] * 10 * 5 * 8, f"rank 1's results went from {names[1]} to {names[0]} over "
                                                   f"the veth pair: {sent} bytes sent")
    for r in ranks:
        c.ok(re.search(rf"^\s+{r['rank']}\s+{r['host']}\s", text, re.M) is not None,
             f"the printed summary shows rank {r['rank']} on {r['host']}:\n{text}")
    _, one_summary, one_listing, one_export = outputs["one"]
    c.ok(len(one_summary["ranks"]) == 1, "the reference run had one rank")
    c.ok(export.count("\n") == 20 * 10 + 1, "the export has every row")
    c.ok(export == one_export, "predictions export: two hosts byte for byte the same as one process")
    c.ok(listing == one_listing, "registry list: two hosts byte for byte the same as one process (version aside)")


c = Checks("two_hosts")
d = workdir()
names = (f"{PREFIX}{os.getpid()}a", f"{PREFIX}{os.getpid()}b")


def clean():
    for ns in names:
        remove_namespace(ns)
    shutil.rmtree(d, ignore_errors=True)


run_then_clean(lambda: main(c, d, names), clean)
c.done()
