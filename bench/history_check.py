#!/usr/bin/env python3
"""Check `folio log` and `folio owners` against gen_repo.py's --truth oracle.

Usage: history_check.py REPO TRUTH.json [FOLIO] [--sample N]
For N random customers: the commits folio lists (oldest first) must be the
commits the generator made for that customer, and the owner after each one
must match the oracle's.
"""
import json
import random
import subprocess
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--sample")]
repo, truth_path = args[0], args[1]
folio = args[2] if len(args) > 2 else "folio"
n = 30
for a in sys.argv[1:]:
    if a.startswith("--sample="):
        n = int(a.split("=", 1)[1])
truth = json.load(open(truth_path))
ids = sorted(truth)
random.seed(7)
sample = random.sample(ids, min(n, len(ids)))
bad = 0
for cid in sample:
    t = truth[cid]
    out = subprocess.run([folio, "log", cid, "--format", "json"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    log = json.loads(out)
    commits = [e["commit"] for e in reversed(log) if e["commit"]]
    if commits != t["commits"]:
        bad += 1
        print(f"{cid}: commits differ: folio {len(commits)}, truth {len(t['commits'])}")
        continue
    # owner after each commit, replayed from the field changes
    owner = None
    owners = []
    for e in reversed(log):
        for c in e["changes"]:
            if c["field"] == "record" and c["new"] is not None:
                path = c["new"]
                owner = subprocess.run(["git", "show", f"{e['commit']}:{path}"], cwd=repo,
                                       capture_output=True, text=True).stdout
                owner = next((l.split('"')[1] for l in owner.splitlines() if l.startswith("owner = ")), None)
            if c["field"] == "owner":
                owner = c["new"]
        owners.append(owner)
    if owners != t["owners"]:
        bad += 1
        print(f"{cid}: owners differ: folio {owners}, truth {t['owners']}")
print(f"{len(sample) - bad}/{len(sample)} customers match the oracle")
sys.exit(1 if bad else 0)
