"""Azure Batch (jobs/azure-batch/): the request bodies checked against what the Batch REST API (2024-07-01.20.0)
requires, and their command lines run for real on this machine.

No Batch service runs here and none is mocked. The test renders the bodies (render.py, with sample site values),
checks every field's name, type and required fields against the REST API's definitions, checks what an MPI job
needs (inter-node communication, one task slot per node, as many instances as nodes, the start task installing
the program and waiting for success), that the training task's application command line is the one
slurm/train.sbatch runs (both through slurm/rank.sh), and that every script the bodies name is in the
repository. Then it installs the program into a temporary prefix as the start task does (cmake --install) and
runs the tasks' command lines as a node would (not through a shell; the job's environment, Batch's variables),
on one "node" with a small job file: the coordination command refuses a node without the lake, the prepare
task writes it, the coordination command accepts it, and mpirun over $AZ_BATCH_HOST_LIST trains."""
import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from common import Checks, read_csv, run

c = Checks("azure_batch")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = os.path.join(REPO, "jobs", "azure-batch")
BUILD = os.path.dirname(os.path.abspath(os.environ["MANYMODELS"]))

# The REST API's definitions of the request bodies, as far as these files use them: for each object, its
# required properties and the type of every property it may have (a name not listed is a typo and fails).
# Types: str, int, bool, a tuple of allowed strings (an enum), "duration" (ISO 8601), the name of another
# definition, or a one-element list [type] for an array.
DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
SPEC = {
    "PoolAddParameter": (["id", "vmSize"], {
        "id": str, "displayName": str, "vmSize": str,
        "virtualMachineConfiguration": "VirtualMachineConfiguration", "networkConfiguration": "NetworkConfiguration",
        "resizeTimeout": "duration", "targetDedicatedNodes": int, "targetLowPriorityNodes": int,
        "enableAutoScale": bool, "enableInterNodeCommunication": bool, "startTask": "StartTask",
        "taskSlotsPerNode": int, "userAccounts": ["UserAccount"], "mountConfiguration": ["MountConfiguration"],
        "targetNodeCommunicationMode": ("default", "classic", "simplified")}),
    "VirtualMachineConfiguration": (["imageReference", "nodeAgentSKUId"], {
        "imageReference": "ImageReference", "nodeAgentSKUId": str}),
    "ImageReference": ([], {"publisher": str, "offer": str, "sku": str, "version": str}),
    "NetworkConfiguration": ([], {"subnetId": str}),
    "UserAccount": (["name", "password"], {
        "name": str, "password": str, "elevationLevel": ("nonadmin", "admin"),
        "linuxUserConfiguration": "LinuxUserConfiguration"}),
    "LinuxUserConfiguration": ([], {"uid": int, "gid": int, "sshPrivateKey": str}),
    "MountConfiguration": ([], {"nfsMountConfiguration": "NFSMountConfiguration"}),
    "NFSMountConfiguration": (["source", "relativeMountPath"], {
        "source": str, "relativeMountPath": str, "mountOptions": str}),
    "StartTask": (["commandLine"], {
        "commandLine": str, "resourceFiles": ["ResourceFile"], "environmentSettings": ["EnvironmentSetting"],
        "userIdentity": "UserIdentity", "maxTaskRetryCount": int, "waitForSuccess": bool}),
    "ResourceFile": ([], {
        "autoStorageContainerName": str, "storageContainerUrl": str, "httpUrl": str, "blobPrefix": str,
        "filePath": str, "fileMode": str}),
    "EnvironmentSetting": (["name"], {"name": str, "value": str}),
    "UserIdentity": ([], {"username": str, "autoUser": "AutoUserSpecification"}),
    "AutoUserSpecification": ([], {"scope": ("task", "pool"), "elevationLevel": ("nonadmin", "admin")}),
    "JobAddParameter": (["id", "poolInfo"], {
        "id": str, "displayName": str, "priority": int, "constraints": "JobConstraints",
        "poolInfo": "PoolInformation", "onAllTasksComplete": ("noaction", "terminatejob"),
        "onTaskFailure": ("noaction", "performexitoptionsjobaction"),
        "commonEnvironmentSettings": ["EnvironmentSetting"], "usesTaskDependencies": bool}),
    "PoolInformation": ([], {"poolId": str}),
    "JobConstraints": ([], {"maxWallClockTime": "duration", "maxTaskRetryCount": int}),
    "TaskAddParameter": (["id", "commandLine"], {
        "id": str, "displayName": str, "commandLine": str, "resourceFiles": ["ResourceFile"],
        "environmentSettings": ["EnvironmentSetting"], "constraints": "TaskConstraints",
        "userIdentity": "UserIdentity", "multiInstanceSettings": "MultiInstanceSettings",
        "dependsOn": "TaskDependencies", "requiredSlots": int}),
    "MultiInstanceSettings": (["coordinationCommandLine"], {
        "numberOfInstances": int, "coordinationCommandLine": str, "commonResourceFiles": ["ResourceFile"]}),
    "TaskDependencies": ([], {"taskIds": [str]}),
    "TaskConstraints": ([], {"maxWallClockTime": "duration", "retentionTime": "duration", "maxTaskRetryCount": int}),
}
ONE_OF = {"UserIdentity": ["username", "autoUser"], "MountConfiguration": ["nfsMountConfiguration"],
          "ResourceFile": ["autoStorageContainerName", "storageContainerUrl", "httpUrl"]}


def check(value, kind, where):
    """Checks a value against a type of SPEC; fails naming the JSON path."""
    if isinstance(kind, list):
        c.ok(isinstance(value, list), f"{where}: an array")
        for i, v in enumerate(value):
            check(v, kind[0], f"{where}[{i}]")
    elif isinstance(kind, tuple):
        c.ok(value in kind, f"{where}: {value!r} is not one of {kind}")
    elif kind == "duration":
        c.ok(isinstance(value, str) and DURATION.match(value), f"{where}: {value!r} is not an ISO 8601 duration")
    elif kind in (int, bool, str):
        c.ok(type(value) is kind, f"{where}: {value!r} is not a {kind.__name__}")
    else:
        required, props = SPEC[kind]
        c.ok(isinstance(value, dict), f"{where}: an object ({kind})")
        for name in required:
            c.ok(name in value, f"{where}: {kind} requires {name}")
        for name, v in value.items():
            c.ok(name in props, f"{where}.{name}: not a property of {kind}")
            check(v, props[name], f"{where}.{name}")
        if kind in ONE_OF:
            given = [n for n in ONE_OF[kind] if n in value]
            c.ok(len(given) == 1, f"{where}: exactly one of {ONE_OF[kind]} (given {given})")


def bash_script(command_line, where):
    """Batch runs a command line without a shell: ours are /bin/bash -c 'SCRIPT'. Returns SCRIPT, checked by bash."""
    argv = shlex.split(command_line)
    c.ok(len(argv) == 3 and argv[:2] == ["/bin/bash", "-c"], f"{where}: /bin/bash -c 'SCRIPT', got {argv[:2]}")
    p = subprocess.run(["bash", "-n", "-c", argv[2]], capture_output=True, text=True)
    c.ok(p.returncode == 0, f"{where}: bash cannot parse it: {p.stderr}")
    return argv[2]


def installed(path, where):
    """A path under $MM_PREFIX/share/manymodels/ is a repository file that cmake --install puts there."""
    m = re.match(r"^\$MM_PREFIX/share/manymodels/(.+)$", path)
    c.ok(m, f"{where}: {path} is not under $MM_PREFIX/share/manymodels/")
    rel = m.group(1).replace("$MM_JOB", job_env["MM_JOB"])
    c.ok(os.path.isfile(os.path.join(REPO, rel)), f"{where}: {rel} is not in the repository")
    return rel


def after_rank_sh(argv, where):
    """The arguments given to slurm/rank.sh in a launch line, and the script's token."""
    at = [i for i, t in enumerate(argv) if t.endswith("/rank.sh")]
    c.ok(len(at) == 1, f"{where}: runs slurm/rank.sh once: {argv}")
    return argv[at[0]], argv[at[0] + 1:]


tmp = tempfile.mkdtemp(prefix="mm_azb_")
try:
    # --- The bodies as submitted: render.py fills in the site's values. ---
    out = os.path.join(tmp, "rendered")
    nfs = "mmstore.file.core.windows.net:/mmstore/manymodels"
    subnet = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
              "Microsoft.Network/virtualNetworks/vnet/subnets/batch")
    p = subprocess.run([sys.executable, os.path.join(BATCH, "render.py"), "--nfs-source", nfs, "--subnet-id", subnet,
                        "--out", out], capture_output=True, text=True)
    c.ok(p.returncode == 0, f"render.py: {p.stderr}")
    key = os.path.join(out, "mpi_key")
    c.ok(os.path.isfile(key) and os.path.isfile(key + ".pub"), "render.py made the MPI user's key pair")
    bodies = {}
    for name in ("pool", "job", "prepare-task", "train-task"):
        path = os.path.join(out, f"{name}.json")
        c.ok(os.stat(path).st_mode & 0o077 == 0, f"{name}.json is readable by its owner only")
        with open(path) as f:
            text = f.read()
        c.ok(not re.search(r'"@[A-Z_]+@"', text), f"{name}.json: a placeholder is left")
        bodies[name] = json.loads(text)
    pool, job, prepare, train = bodies["pool"], bodies["job"], bodies["prepare-task"], bodies["train-task"]
    for bad in (["--nfs-source", "mmstore/manymodels", "--subnet-id", subnet],
                ["--nfs-source", nfs, "--subnet-id", "batch-subnet"]):
        p = subprocess.run([sys.executable, os.path.join(BATCH, "render.py"), *bad, "--ssh-key", key, "--out", out],
                           capture_output=True, text=True)
        c.ok(p.returncode != 0 and "render.py: --" in p.stderr, f"render.py refuses {bad}: {p.stderr}")

    # --- Names, types and required fields, as the REST API defines them. ---
    check(pool, "PoolAddParameter", "pool")
    check(job, "JobAddParameter", "job")
    check(prepare, "TaskAddParameter", "prepare-task")
    check(train, "TaskAddParameter", "train-task")
    for name, body in (("pool", pool), ("job", job), ("prepare-task", prepare), ("train-task", train)):
        c.ok(re.match(r"^[A-Za-z0-9_-]{1,64}$", body["id"]), f"{name}: id {body['id']!r}")

    # --- What an MPI pool and a multi-instance task need. ---
    mi = train["multiInstanceSettings"]
    c.ok(pool["enableInterNodeCommunication"] is True, "pool: inter-node communication on")
    c.ok(pool["taskSlotsPerNode"] == 1, "pool: one task slot per node (multi-instance tasks need it)")
    c.ok(mi["numberOfInstances"] == pool["targetDedicatedNodes"] >= 2,
         f"train: {mi['numberOfInstances']} instances on a pool of {pool['targetDedicatedNodes']} nodes")
    c.ok("multiInstanceSettings" not in prepare and prepare.get("requiredSlots", 1) == 1, "prepare: one node")
    vm = pool["virtualMachineConfiguration"]
    image = tuple(vm["imageReference"][k] for k in ("publisher", "offer", "sku"))
    # Pairs from Batch's list of supported images (az batch pool supported-images list), Ubuntu LTS.
    supported = {("canonical", "ubuntu-24_04-lts", "server"): "batch.node.ubuntu 24.04",
                 ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts"): "batch.node.ubuntu 22.04"}
    c.ok(supported.get(image) == vm["nodeAgentSKUId"], f"pool: image {image} with agent {vm['nodeAgentSKUId']}")
    st = pool["startTask"]
    c.ok(st["waitForSuccess"] is True, "start task: nodes take tasks only once it has succeeded")
    c.ok(st["userIdentity"]["autoUser"] == {"scope": "pool", "elevationLevel": "admin"}, "start task: as root")
    user = pool["userAccounts"][0]
    c.ok(user["elevationLevel"] == "nonadmin", "the MPI user is not an administrator")
    lu = user["linuxUserConfiguration"]
    with open(key) as f:
        c.ok(lu["sshPrivateKey"] == f.read(), "the MPI user's private key is render.py's")
    c.ok({"uid", "gid"} <= set(lu) and "PRIVATE KEY" in lu["sshPrivateKey"],
         "the MPI user: the same uid and gid on every node (NFS), an SSH key (password-less SSH for mpirun)")
    for name, task in (("prepare", prepare), ("train", train)):
        c.ok(task["userIdentity"] == {"username": user["name"]}, f"{name}: runs as the pool's MPI user")
    st_env = {e["name"]: e["value"] for e in st["environmentSettings"]}
    job_env = {e["name"]: e["value"] for e in job["commonEnvironmentSettings"]}
    c.ok(st_env["MM_USER"] == user["name"], "start task: MM_USER is the pool's MPI user")
    c.ok(st_env["MM_PREFIX"] == job_env["MM_PREFIX"], "the start task installs where the tasks look (MM_PREFIX)")
    c.ok(job["poolInfo"]["poolId"] == pool["id"], "job: runs on the pool")
    c.ok(job["onAllTasksComplete"] == "noaction",
         "job: noaction until the tasks are added (a job with no tasks counts as complete)")
    c.ok(train["dependsOn"]["taskIds"] == [prepare["id"]] and job["usesTaskDependencies"] is True,
         "train waits for prepare (the job allows task dependencies)")
    mount = pool["mountConfiguration"][0]["nfsMountConfiguration"]
    c.ok(mount["source"] == nfs and pool["networkConfiguration"]["subnetId"] == subnet, "site values filled in")
    share = "$AZ_BATCH_NODE_MOUNTS_DIR/" + mount["relativeMountPath"]

    # --- The scripts the bodies run are in the repository; the command lines are bash that parses. ---
    start_script = bash_script(st["commandLine"], "start task")
    blob = st["resourceFiles"][0]["blobPrefix"]
    c.ok(f"tar -xzf {blob};" in start_script, f"start task unpacks the resource file {blob}")
    m = re.search(r"bash manymodels/(\S+\.sh)'?$", start_script)
    c.ok(m and os.path.isfile(os.path.join(REPO, m.group(1))), f"start task runs a repository script: {start_script}")
    with open(os.path.join(REPO, m.group(1))) as f:
        start_sh = f.read()
    c.ok('"$AZ_BATCH_NODE_MOUNTS_DIR/' + mount["relativeMountPath"] + '"' in start_sh,
         "start-task.sh gives the MPI user the mounted share")
    coordination = bash_script(mi["coordinationCommandLine"], "coordination command")
    coord_rel = installed(shlex.split(coordination)[-1], "coordination command")
    with open(os.path.join(REPO, coord_rel)) as f:
        c.ok('"$AZ_BATCH_NODE_MOUNTS_DIR/' + mount["relativeMountPath"] + '"' in f.read(),
             "coordination.sh checks the mounted share")
    prepare_script = bash_script(prepare["commandLine"], "prepare task")
    app = bash_script(train["commandLine"], "application command")
    for name, script in (("prepare", prepare_script), ("train", app)):
        c.ok(f'cd "{share}";' in script, f"{name} works in the mounted share {share}")
    installed(re.search(r"job=(\S+);", prepare_script).group(1), "prepare task's job file")

    # --- The application command line is the one slurm/train.sbatch runs: both run slurm/rank.sh. ---
    app_argv = shlex.split(app)
    c.ok("mpirun" in app_argv, "the application command runs mpirun")
    mpirun = app_argv[app_argv.index("mpirun"):]
    c.ok(mpirun[1:3] == ["--host", "$AZ_BATCH_HOST_LIST"], f"mpirun over $AZ_BATCH_HOST_LIST: {mpirun[:3]}")
    with open(os.path.join(REPO, "slurm", "train.sbatch")) as f:
        srun = [ln for ln in f.read().splitlines() if ln.startswith("srun ")]
    c.ok(len(srun) == 1, "train.sbatch has one srun line")
    srun_argv = shlex.split(srun[0])
    if srun_argv[-1] == "&":  # run in the background, for the script's SIGUSR1 trap
        srun_argv.pop()
    slurm_script, slurm_args = after_rank_sh(srun_argv, "train.sbatch")
    batch_script, batch_args = after_rank_sh(mpirun, "application command")
    c.ok(slurm_script == "$HERE/rank.sh" and installed(batch_script, "application command") == "slurm/rank.sh",
         f"both run slurm/rank.sh: {slurm_script}, {batch_script}")
    c.ok(slurm_args[-1] == "$@", "train.sbatch passes its extra options on")
    slurm_args = slurm_args[:-1]
    c.ok(slurm_args[0] == batch_args[0] == "train" and len(slurm_args) == len(batch_args)
         and [a for a in slurm_args if a.startswith("--")] == [a for a in batch_args if a.startswith("--")],
         f"the same command line: rank.sh {' '.join(slurm_args)} (Slurm), rank.sh {' '.join(batch_args)} (Batch)")
    job_rel = installed(batch_args[1], "application command's job file")
    ini = configparser.ConfigParser()
    with open(os.path.join(REPO, job_rel)) as f:
        ini.read_string("[common]\n" + f.read())
    c.ok([ini["generate"][k] for k in ("stores", "items", "length")] == ["100", "100", "4000"]
         and ini["common"]["horizon"] == "28", f"{job_rel}: the reference workload (100 x 100 x 4,000 days, H = 28)")

    # --- Run them as a node would: the program installed as the start task installs it, one node. ---
    prefix, mounts = os.path.join(tmp, "prefix"), os.path.join(tmp, "mounts")
    p = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], capture_output=True, text=True)
    c.ok(p.returncode == 0, f"cmake --install: {p.stderr}")
    for rel in ("slurm/rank.sh", coord_rel):
        c.ok(os.access(os.path.join(prefix, "share", "manymodels", rel), os.X_OK), f"{rel} installed executable")
    with open(os.path.join(prefix, "share", "manymodels", "jobs", "small.ini"), "w") as f:
        f.write("lake = lake.h5\nregistry = registry.h5\npredictions = predictions.h5\nhorizon = 7\n"
                "[generate]\nout = panel.csv\nstores = 3\nitems = 4\nlength = 120\nseed = 5\n"
                "[ingest]\ninput = panel.csv\nkeys = store,item\ntime = date\ntarget = sales\n"
                "[train]\nmodels = snaive,theta\n")
    data = os.path.join(mounts, mount["relativeMountPath"])
    os.makedirs(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MANYMODELS", "HDF5_USE_FILE_LOCKING"))}
    env.update(job_env)
    env.update({"MM_PREFIX": prefix, "MM_JOB": "small.ini", "AZ_BATCH_NODE_MOUNTS_DIR": mounts,
                "AZ_BATCH_HOST_LIST": "localhost"})
    if os.geteuid() == 0:  # CI runs as root; Batch runs these as the pool's MPI user
        env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})
    wd = os.path.join(tmp, "wd")
    os.makedirs(wd)

    def batch(command_line):
        return subprocess.run(shlex.split(command_line), capture_output=True, text=True, env=env, cwd=wd, timeout=300)

    p = batch(mi["coordinationCommandLine"])
    c.ok(p.returncode == 1 and "is the share mounted on this node?" in p.stderr,
         f"coordination refuses a node without the lake: {p.returncode} {p.stderr}")
    p = batch(prepare["commandLine"])
    c.ok(p.returncode == 0 and os.path.isfile(os.path.join(data, "lake.h5")), f"prepare: {p.stdout}{p.stderr}")
    p = batch(mi["coordinationCommandLine"])
    c.ok(p.returncode == 0 and "ready" in p.stdout, f"coordination accepts the node: {p.stdout}{p.stderr}")
    p = batch(train["commandLine"])
    c.ok(p.returncode == 0, f"train (mpirun over $AZ_BATCH_HOST_LIST): {p.stdout}{p.stderr}")
    rows = read_csv(run(["predictions", "export", "--predictions", os.path.join(data, "predictions.h5")]).stdout)
    c.ok(len(rows) == 3 * 4 * 7, f"12 series x 7 steps of predictions, got {len(rows)}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
c.done()
