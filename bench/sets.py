"""The shared data sets (../shared/data) as the accuracy benchmarks use them: the long CSV unpacked into a work
folder, and R's Naive2 forecast of it (../shared/peers/r_peer.R, run once), which OWA is relative to."""
import os
import subprocess


def prepare(name, work, shared):
    """(data, naive2): paths of the set's CSV and of R's Naive2 forecast file in `work`, made if missing."""
    data = os.path.join(work, name + ".csv")
    if not os.path.exists(data):
        subprocess.run(f"zcat {os.path.join(shared, 'data', name + '.csv.gz')} > {data}", shell=True, check=True)
    naive2 = os.path.join(work, f"{name}.R.naive2.csv")
    if not os.path.exists(naive2):
        subprocess.run(["Rscript", os.path.join(shared, "peers", "r_peer.R"), data, "naive2", naive2], check=True,
                       capture_output=True)
    return data, naive2
