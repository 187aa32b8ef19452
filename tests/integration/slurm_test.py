"""Slurm: the scripts of slurm/ on a real one-node Slurm cluster (Debian's slurmctld, slurmd and munged, started by
this test in a temp folder with a slurm.conf, munge key, socket, ports and job ids of its own, as
/work/shared/HPC.md describes).

- `slurm/pipeline.sh --daily jobs/demo.ini` (the repository's job file, run in the temp folder on a small
  generated panel) submits ingest -> train -> promote -> score as a chain and a "next" job for tomorrow; every
  stage completes, each after the one before, and the registry listings (the run id aside) and the predictions
  exports are byte for byte those of the same commands run directly, without Slurm. The "next" job, released
  early, submits the next day's chain, which completes with the same outputs, and the day after's "next" job.
- A chain whose ingest fails: the later stages are cancelled, not left pending, and the next day's job waits for
  its time only. A chain one of whose stages Slurm refuses is not submitted at all (its first job was held).
- `slurm/sweep.sbatch` as a job array over the layouts 1x1 and 2x1 (srun with PMIx), and 1x2 with mpirun: each
  array task prints its layout and run summary, and its exports are the direct run's.

Needs root (the daemons run as root, as SlurmUser) and the Debian packages slurm-wlm and munge; when the daemons
cannot start, the test fails and says why. It stops the daemons it started (by pid), and every process its jobs
left, also on failure, SIGINT, SIGTERM or SIGHUP, and its folder goes at exit (MM_KEEP_WORKDIR=1 keeps it); what a
run killed outright (SIGKILL) left is removed by the next run."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from common import Checks, read_csv, run, run_then_clean, workdir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(REPO, "jobs", "demo.ini")
PIPELINE, SWEEP = os.path.join(REPO, "slurm", "pipeline.sh"), os.path.join(REPO, "slurm", "sweep.sbatch")
TRAIN = os.path.join(REPO, "slurm", "train.sbatch")
TOOLS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo")
MARK = "MANYMODELS_SLURM_TEST"  # "PID:FOLDER" in the environment of the daemons and jobs of the test run PID
DEADLINE = time.time() + 360  # the test gives up waiting for jobs then, well before ctest's limit (450 s)


def marked_processes():
    """{pid: the value of MARK} of every process that has MARK in its environment."""
    out = {}
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                for var in f.read().split(b"\0"):
                    if var.startswith(MARK.encode() + b"="):
                        out[int(pid)] = var[len(MARK) + 1:].decode()
        except (OSError, ValueError):
            pass
    return out


def stepds(job):
    """The slurmstepd processes still running for `job` (any step of it, the batch step included)."""
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, ValueError):
            continue
        if cmd.startswith(b"slurmstepd") and f"[{job}.".encode() in cmd:
            out.append(int(pid))
    return out


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def remove_stale():
    """What an earlier run of this test left when it was killed outright (SIGKILL: no clean-up ran): its daemons
    and jobs, found by their mark, and its folder."""
    for pid, mark in marked_processes().items():
        owner, _, folder = mark.partition(":")
        if not os.path.exists(f"/proc/{owner}"):
            kill(pid)
            if os.path.basename(folder).startswith("mm_it_"):
                shutil.rmtree(folder, ignore_errors=True)


def free_ports(n):
    """n distinct TCP ports free now on 127.0.0.1 (for slurmctld and slurmd: never Slurm's usual 6817 and 6818)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Cluster:
    """munged, slurmctld and slurmd in the foreground, each a child of this process; jobs see `self.env`."""

    def __init__(self, d, c):
        self.d, self.c, self.procs = d, c, {}
        self.conf = os.path.join(d, "slurm.conf")
        # The test's environment without any Slurm of the caller's, plus the mark and this cluster's slurm.conf.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))}
        self.mark = f"{os.getpid()}:{d}"
        self.env.update({"SLURM_CONF": self.conf, MARK: self.mark, "OMPI_ALLOW_RUN_AS_ROOT": "1",
                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PMIX_MCA_gds": "hash"})
        self.jobcomp = os.path.join(d, "log", "jobcomp.log")

    def log_tail(self, name, lines=15):
        path = os.path.join(self.d, "log", name)
        if not os.path.exists(path):
            return f"({name}: no log)"
        with open(path, errors="replace") as f:
            return f"--- {name}:\n" + "".join(f.readlines()[-lines:])

    def daemon(self, name, argv):
        log = open(os.path.join(self.d, "log", name + ".out"), "w")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                            start_new_session=True)
        log.close()

    def start(self):
        c, d = self.c, self.d
        c.ok(os.geteuid() == 0, "this test must run as root: slurmd and munged run as root here (SlurmUser=root)")
        remove_stale()
        for tool in TOOLS:
            c.ok(shutil.which(tool) is not None, f"{tool} not found: install the Debian packages slurm-wlm and munge "
                                                 "(scripts/bootstrap.sh does)")
        # munged wants its socket's folder reachable by all, and its key private.
        os.chmod(d, 0o711)
        for sub, mode in (("munge", 0o755), ("log", 0o755), ("ctld", 0o700), ("slurmd", 0o755), ("tmp", 0o755)):
            os.mkdir(os.path.join(d, sub), mode)
        key, sock = os.path.join(d, "munge", "munge.key"), os.path.join(d, "munge", "munge.sock")
        p = subprocess.run(["mungekey", "--create", "--keyfile", key], capture_output=True, text=True)
        c.ok(p.returncode == 0, f"mungekey could not make a key: {p.stderr.strip()}")
        self.daemon("munged", ["munged", "--foreground", "--key-file", key, "--socket", sock,
                               "--pid-file", os.path.join(d, "munge", "munged.pid"),
                               "--seed-file", os.path.join(d, "munge", "munged.seed"),
                               "--log-file", os.path.join(d, "log", "munged.log")])
        for _ in range(100):
            if os.path.exists(sock) or self.procs["munged"].poll() is not None:
                break
            time.sleep(0.1)
        c.ok(os.path.exists(sock), "munged did not start:\n" + self.log_tail("munged.out"))

        host = socket.gethostname().split(".")[0]
        node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True).stdout.splitlines()
        c.ok(bool(node) and node[0].startswith("NodeName="), f"slurmd -C describes no node: {node}")
        ctld_port, slurmd_port = free_ports(2)
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=mmtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
FirstJobId={1000 + os.getpid() % 1000000}
StateSaveLocation={d}/ctld
SlurmdSpoolDir={d}/slurmd
TmpFS={d}/tmp
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ReturnToService=2
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
{node[0]} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        self.daemon("slurmctld", ["slurmctld", "-D", "-f", self.conf])
        self.daemon("slurmd", ["slurmd", "-D", "-f", self.conf])
        state = ""
        for _ in range(300):
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                break
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env).stdout
            if state.strip() == "idle":
                break
            time.sleep(0.2)
        c.ok(state.strip() == "idle", f"the Slurm daemons did not start (exited: {dead}; node state "
                                      f"'{state.strip()}'):\n" + "\n".join(
                                          self.log_tail(n) for n in ("slurmctld.out", "slurmd.out", "munged.out")))

    def stop(self):
        """Cancels every job, stops the daemons (SIGTERM, then SIGKILL), then kills any process left carrying the
        mark (job steps outlive slurmd)."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            subprocess.run(["scancel", "--full", "--user=root"], env=self.env, capture_output=True, timeout=30)
            for _ in range(50):
                q = subprocess.run(["squeue", "-h"], env=self.env, capture_output=True, text=True, timeout=30)
                if q.returncode != 0 or not q.stdout.strip():
                    break
                time.sleep(0.2)
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pid, mark in marked_processes().items():
            if mark == self.mark:
                kill(pid)

    def cmd(self, *argv, cwd=None, env_extra=None, check=True):
        env = dict(self.env, **(env_extra or {}))
        p = subprocess.run(list(argv), capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
        self.c.ok(not check or p.returncode == 0, f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def records(self):
        """The job completion records: {job id or ARRAYID_INDEX: {field: value}}."""
        out = {}
        if os.path.exists(self.jobcomp):
            with open(self.jobcomp) as f:
                for line in f:
                    r = dict(re.findall(r"(\w+)=(\S*)", line))
                    out[r["JobId"]] = r
                    if r.get("ArrayJobId"):
                        out[f"{r['ArrayJobId']}_{r['ArrayTaskId']}"] = r
        return out

    def wait(self, ids, what):
        """Waits for every job of `ids` to end; returns their records."""
        while time.time() < DEADLINE:
            r = self.records()
            if all(i in r for i in ids):
                return {i: r[i] for i in ids}
            time.sleep(0.5)
        queue = self.cmd("squeue", "-o", "%i %j %T %r", check=False).stdout
        self.c.ok(False, f"{what}: jobs {ids} had not all ended when the test's time was up; queue:\n{queue}\n"
                         + self.log_tail("slurmctld.log"))

    def job(self, i):
        """scontrol's fields of one job."""
        text = self.cmd("scontrol", "show", "job", i, "-o").stdout
        return dict(re.findall(r"(\w+)=(\S*)", text))


def listing(cwd, reg):
    """The registry listing with its run ids (the version column) as RUN, checked to be one train run's."""
    text = run(["registry", "list", "--registry", reg, "--format", "csv"], cwd=cwd).stdout
    return text, {r["version"] for r in read_csv(text)}


def outputs(c, cwd, where, reg="out/demo/registry.h5", pred="out/demo/predictions.h5", production=True):
    """What a run of the demo job leaves, free of run-specific values: the listings (staging, and production) and
    exports (train's predictions, and score's)."""
    staging, versions = listing(cwd, reg)
    c.ok(len(versions) == 1 and "" not in versions, f"{where}: one run id in the staging registry: {versions}")
    out = {"registry list": staging.replace(versions.pop(), "RUN"),
           "predictions export": run(["predictions", "export", "--predictions", pred, "--format", "csv"],
                                     cwd=cwd).stdout}
    if production:
        production, prod_versions = listing(cwd, "out/demo/production.h5")
        c.ok(len(prod_versions) == 1, f"{where}: the production models come from one training run: {prod_versions}")
        out["production list"] = production.replace(prod_versions.pop(), "RUN")
        out["scores export"] = run(["predictions", "export", "--predictions", "out/demo/scores.h5", "--format", "csv"],
                                   cwd=cwd).stdout
    return out


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def check_chain(c, cl, lines, cwd, what):
    """The four stages of `lines` ("stage id") completed, each after the one before, train with 2 ranks."""
    ids = dict(ln.split() for ln in lines)
    recs = cl.wait([ids[s] for s in ("ingest", "train", "promote", "score")], what)
    previous = None
    for stage in ("ingest", "train", "promote", "score"):
        r, log = recs[ids[stage]], os.path.join(cwd, f"manymodels-{stage}-{ids[stage]}.out")
        text = read(log) if os.path.exists(log) else "(no log)"
        c.ok(r["JobState"] == "COMPLETED" and r["ExitCode"] == "0:0",
             f"{what}: {stage} (job {ids[stage]}) ended {r['JobState']} {r['ExitCode']}:\n{text}")
        c.ok(r["Name"] == f"manymodels-{stage}", f"{what}: job {ids[stage]} is {stage}: {r['Name']}")
        if previous:
            c.ok(r["StartTime"] >= previous["EndTime"], f"{what}: {stage} started after the stage before ended: "
                                                        f"{r['StartTime']} < {previous['EndTime']}")
        previous = r
    train_log = read(os.path.join(cwd, f"manymodels-train-{ids['train']}.out"))
    c.ok("manymodels train: 2 ranks x 1 threads" in train_log, f"{what}: train ran 2 ranks:\n{train_log}")


def main(c, d, cl):
    cl.start()

    # The demo job file as it is, run from two folders of its own: out/demo/ under each.
    direct, chain, broken = (os.path.join(d, x) for x in ("direct", "chain", "broken"))
    for w in (direct, chain):
        os.makedirs(os.path.join(w, "out", "demo"))
        run(["generate", "--config", DEMO, "--stores", "3", "--items", "4", "--length", "400"], cwd=w)
    os.mkdir(broken)

    # --- The pipeline, and the next day's job (pending until tomorrow, after score).
    p = cl.cmd(PIPELINE, "--daily", DEMO, cwd=chain)
    lines = p.stdout.splitlines()
    c.ok([ln.split()[0] for ln in lines] == ["ingest", "train", "promote", "score", "next"]
         and all(re.fullmatch(r"\w+ \d+", ln) for ln in lines), f"pipeline prints 'stage id' per job:\n{p.stdout}")
    ids = dict(ln.split() for ln in lines)
    nxt = cl.job(ids["next"])
    tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    c.ok(nxt["JobState"] == "PENDING" and nxt["EligibleTime"] == f"{tomorrow}T00:00:00",
         f"the next job waits for tomorrow 00:00: {nxt.get('JobState')} {nxt.get('EligibleTime')}")
    c.ok(nxt["Dependency"].startswith(f"afterany:{ids['score']}"), f"next waits for score: {nxt['Dependency']}")
    c.ok(nxt["JobName"] == "manymodels-next", f"the next job's name: {nxt['JobName']}")

    # The same commands without Slurm, meanwhile.
    for sub in ("ingest", "train", "promote", "score"):
        run([sub, "--config", DEMO], cwd=direct)
    want = outputs(c, direct, "direct")
    c.ok(want["production list"].count("\n") > 1, f"some models were promoted:\n{want['production list']}")

    check_chain(c, cl, lines[:4], chain, "pipeline")
    got = outputs(c, chain, "pipeline")
    for k in want:
        c.ok(got[k] == want[k], f"pipeline: {k} differs from the direct run's:\n{got[k][:600]}\n---\n{want[k][:600]}")

    # --- A failing stage cancels the ones after it (broken/ has no panel to ingest); the next day's job still runs.
    p = cl.cmd(PIPELINE, "--daily", DEMO, cwd=broken)
    bad = dict(ln.split() for ln in p.stdout.splitlines())
    recs = cl.wait([bad[s] for s in ("ingest", "train", "promote", "score")], "broken pipeline")
    c.ok(recs[bad["ingest"]]["JobState"] == "FAILED", f"ingest without its input failed: {recs[bad['ingest']]}")
    for s in ("train", "promote", "score"):
        c.ok(recs[bad[s]]["JobState"] == "CANCELLED", f"{s} after a failed ingest was cancelled: {recs[bad[s]]}")
    c.ok(not os.path.exists(os.path.join(broken, "out")), "the failed chain wrote nothing")
    nxt = cl.job(bad["next"])
    c.ok(nxt["JobState"] == "PENDING" and nxt["Reason"] == "BeginTime" and nxt["Dependency"] == "(null)",
         f"after a failed chain the next day's job waits only for its time: {nxt}")
    cl.cmd("scancel", bad["next"])

    # --- A chain that cannot be submitted whole is not submitted at all: nothing of it runs.
    refused = os.path.join(d, "refused")
    os.mkdir(refused)
    p = cl.cmd(PIPELINE, "--score=--partition=nosuch", DEMO, cwd=refused, check=False)
    c.ok(p.returncode == 1 and p.stdout == "" and "cancelling the jobs already submitted" in p.stderr,
         f"a refused stage fails the pipeline and cancels the others: {p.returncode}\n{p.stdout}{p.stderr}")
    held = re.search(r"submitted: ([\d ]+)", p.stderr).group(1).split()
    recs = cl.wait(held, "refused pipeline")
    c.ok(all(r["JobState"] == "CANCELLED" for r in recs.values()) and os.listdir(refused) == [],
         f"the stages submitted before were cancelled before any ran: {recs}, {os.listdir(refused)}")

    # --- The sweep: 1x1 and 2x1 through srun (Slurm has PMIx here), then 1x2 through mpirun.
    p = cl.cmd("srun", "--mpi=list")
    c.ok("pmix" in p.stdout + p.stderr, f"Debian's Slurm has PMIx: {p.stdout}{p.stderr}")
    a = cl.cmd("sbatch", "--parsable", "--array=0-1", SWEEP, DEMO, "1x1,2x1", "--quiet", cwd=chain).stdout.strip()
    b = cl.cmd("sbatch", "--parsable", "--array=1", SWEEP, DEMO, "--quiet", cwd=chain,
               env_extra={"LAYOUTS": "1x1 1x2", "MANYMODELS_LAUNCHER": "mpirun", "SWEEP_DIR": "by-mpirun"}).stdout
    b = b.strip()
    tasks = {f"{a}_0": (1, 1, "srun", f"manymodels-sweep-{a}"), f"{a}_1": (2, 1, "srun", f"manymodels-sweep-{a}"),
             f"{b}_1": (1, 2, "mpirun", "by-mpirun")}
    recs = cl.wait(list(tasks), "sweep")
    for t, (ranks, threads, launcher, folder) in tasks.items():
        layout, log = f"{ranks}x{threads}", read(os.path.join(chain, f"manymodels-sweep-{t}.out"))
        c.ok(recs[t]["JobState"] == "COMPLETED", f"sweep task {t} ({layout}) ended {recs[t]['JobState']}:\n{log}")
        c.ok(f"sweep: layout {layout}: {ranks} ranks per node x {threads} threads on 1 node(s)" in log
             and f", {launcher} -> {folder}/{layout}" in log, f"sweep task {t} prints its layout:\n{log}")
        printed = re.findall(r"^  (\d+) +\S+ +(\d+) \(--threads\)", log, re.M)
        c.ok(printed == [(str(r), str(threads)) for r in range(ranks)],
             f"sweep task {t} prints the run summary, {ranks} rank(s) x {threads} thread(s):\n{log}")
        out = os.path.join(folder, layout)
        with open(os.path.join(chain, out, "summary.json")) as f:
            summary = json.load(f)
        c.ok([(r["rank"], r["threads_used"]) for r in summary["ranks"]] == [(r, threads) for r in range(ranks)],
             f"sweep task {t}: its summary.json: {summary['ranks']}")
        got = outputs(c, chain, f"sweep {t}", f"{out}/registry.h5", f"{out}/predictions.h5", production=False)
        for k in ("registry list", "predictions export"):
            c.ok(got[k] == want[k], f"sweep task {t} ({layout}, {launcher}): {k} differs from the direct run's")

    # --- The time limit: SIGUSR1 to the batch shell (what --signal=B:USR1@120 sends), passed on to the ranks,
    # which stop with their journal; the job requeues itself, starts again with --resume and ends with the
    # outputs of an uninterrupted run.
    requeue = os.path.join(d, "requeue")
    os.makedirs(os.path.join(requeue, "out", "demo"))
    run(["generate", "--config", DEMO, "--stores", "10", "--items", "20", "--length", "400"], cwd=requeue)
    run(["ingest", "--config", DEMO], cwd=requeue)
    run(["train", "--config", DEMO, "--registry", "out/demo/direct.h5", "--predictions", "out/demo/direct-pred.h5"],
        cwd=requeue)
    want_train = outputs(c, requeue, "requeue, direct", "out/demo/direct.h5", "out/demo/direct-pred.h5",
                         production=False)
    job = cl.cmd("sbatch", "--parsable", TRAIN, DEMO, "--batch", "2", cwd=requeue).stdout.strip()
    journal = os.path.join(requeue, "out", "demo", "registry.h5.journal")
    while time.time() < DEADLINE and not any(os.path.getsize(f) > 0 for f in
                                             [os.path.join(journal, n) for n in (os.listdir(journal)
                                              if os.path.isdir(journal) else []) if n.endswith(".records")]):
        time.sleep(0.1)
    cl.cmd("scancel", "--signal=USR1", "--batch", job)
    state = {}
    while time.time() < DEADLINE:
        state = cl.job(job)
        if state["JobState"] == "PENDING" and state.get("Reason") == "BeginTime" and not stepds(job):
            # A requeued job waits a while first; once its first run's steps are gone (a step of the same id
            # cannot start while the old one's PMIx socket is there), start it now.
            cl.cmd("scontrol", "update", f"jobid={job}", "StartTime=now")
        # The job's own state, not its completion records: the first run's record may read FAILED (the batch
        # script ends as the requeue cancels its step) while the job waits to start again.
        if state.get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"):
            break
        time.sleep(0.5)
    log = read(os.path.join(requeue, f"manymodels-train-{job}.out"))
    c.ok(cl.records().get(job, {}).get("JobState") == "COMPLETED" and cl.job(job).get("Restarts") == "1",
         f"train stopped by SIGUSR1, requeued once and completed: {cl.records().get(job)}:\n{log}")
    c.ok("passed on to the ranks" in log and "requeued to resume" in log and "(restarts: 1)" in log
         and "resumed run" in log and "models taken from" in log,
         f"the log shows the stop, the requeue and the resumed run:\n{log}")
    got = outputs(c, requeue, "requeue", production=False)
    for k in ("registry list", "predictions export"):
        c.ok(got[k] == want_train[k], f"requeued train: {k} differs from the direct run's")
    c.ok(not os.path.exists(journal), "the journal is gone once the outputs are in place")

    # --- The next day: the next job, released now, submits that day's chain and the day after's next job.
    cl.cmd("scontrol", "update", f"jobid={ids['next']}", "StartTime=now")
    rec = cl.wait([ids["next"]], "next job")[ids["next"]]
    log = read(os.path.join(chain, f"manymodels-next-{ids['next']}.out"))
    c.ok(rec["JobState"] == "COMPLETED", f"the next job ended {rec['JobState']}:\n{log}")
    lines2 = log.splitlines()
    c.ok([ln.split()[0] for ln in lines2] == ["ingest", "train", "promote", "score", "next"],
         f"the next job submitted the next day's chain:\n{log}")
    check_chain(c, cl, lines2[:4], chain, "next day's pipeline")
    got = outputs(c, chain, "next day")
    for k in want:
        c.ok(got[k] == want[k], f"next day: {k} differs from the direct run's")
    nxt2 = cl.job(lines2[4].split()[1])
    c.ok(nxt2["JobState"] == "PENDING" and nxt2["EligibleTime"] == f"{tomorrow}T00:00:00"
         and nxt2["Command"] == PIPELINE and f"{PIPELINE} --daily=tomorrow {DEMO}" in cl.cmd(
             "scontrol", "show", "job", lines2[4].split()[1]).stdout,
         f"the day after's next job runs the pipeline again tomorrow: {nxt2}")
    cl.cmd("scancel", lines2[4].split()[1])


if __name__ == "__main__":
    c = Checks("slurm")
    d = workdir()
    cluster = Cluster(d, c)

    run_then_clean(lambda: main(c, d, cluster), cluster.stop)  # workdir() removes d at exit
    c.done()
