#!/usr/bin/env python3
"""Load generator for `weft serve` (standard library only).

latency: sequential API trigger calls; for each, the time from sending the request to the
first block of the run starting (the block run's `started_at`, same machine clock).
throughput: N calls from 8 threads; runs per second until every run has succeeded.
Prints one JSON line.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request


def post(url, token, body=b"{}"):
    req = urllib.request.Request(url, data=body, method="POST", headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())["run_id"]


def get(url):
    with urllib.request.urlopen(url) as resp:
        return json.loads(resp.read())


def wait_done(base, ids, limit=300):
    deadline = time.time() + limit
    pending = set(ids)
    runs = {}
    while pending and time.time() < deadline:
        for rid in list(pending):
            run = get(f"{base}/api/runs/{rid}")
            if run["status"] not in ("queued", "running"):
                pending.discard(rid)
                runs[rid] = run
        time.sleep(0.05)
    assert not pending, f"{len(pending)} runs did not finish"
    return runs


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--base", required=True)
    a.add_argument("--pipeline", required=True)
    a.add_argument("--trigger", required=True)
    a.add_argument("--token", required=True)
    a.add_argument("--latency-runs", type=int, default=200)
    a.add_argument("--throughput-runs", type=int, default=500)
    a = a.parse_args()
    url = f"{a.base}/api/pipelines/{a.pipeline}/triggers/{a.trigger}/runs"

    sent = {}
    for _ in range(a.latency_runs):
        t = time.time() * 1000
        rid = post(url, a.token)
        sent[rid] = t
        wait_done(a.base, [rid])
    runs = wait_done(a.base, list(sent))
    lat = sorted(min(b["started_at"] for b in r["blocks"] if b["started_at"]) - sent[rid] for rid, r in runs.items())
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]

    ids, lock = [], threading.Lock()
    per_thread = a.throughput_runs // 8

    def worker():
        mine = [post(url, a.token) for _ in range(per_thread)]
        with lock:
            ids.extend(mine)

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = time.time() - t0
    runs = wait_done(a.base, ids)
    took = time.time() - t0
    ok = sum(1 for r in runs.values() if r["status"] == "success")
    print(json.dumps({
        "latency_ms_p50": round(p50, 1), "latency_ms_p99": round(p99, 1),
        "throughput_runs": len(ids), "succeeded": ok,
        "accept_per_s": round(len(ids) / accepted, 1), "runs_per_s": round(len(ids) / took, 1),
    }))


if __name__ == "__main__":
    main()
