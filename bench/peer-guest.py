#!/usr/bin/env python3
"""Small helpers of bench/peer-guest.sh (run inside the test VM).

  fio-get FILE KEY...     numbers from a fio JSON output, one a line: write_iops, read_iops, write_mbps, read_mbps,
                          write_bytes, write_iops_min (fio's lowest averaging interval: stalls), write_p99_ms
                          (completion latency), sync_p50_ms, sync_p99_ms (the fdatasync calls)
  cold-reads DEV CHUNK N SEED START COUNT
                          reads 4 KiB (O_DIRECT) at the start of COUNT chunks of DEV, taken from position START of a
                          seeded random permutation of the first N chunks (no chunk
                          right after its lower neighbour); prints each read's latency in ms
  pct P...                the P-th percentiles (nearest rank) of the numbers on stdin, one a line
"""
import json
import math
import mmap
import os
import random
import sys
import time


def fio_job(path):
    text = open(path).read()
    # fio may print notes before the JSON document.
    return json.JSONDecoder().raw_decode(text[text.index("{"):])[0]["jobs"][0]


def fio_get(path, key):
    job = fio_job(path)
    if key in ("write_iops", "read_iops"):
        return f"{job[key.split('_')[0]]['iops']:.0f}"
    if key in ("write_mbps", "read_mbps"):
        return f"{job[key.split('_')[0]]['bw_bytes'] / 1e6:.2f}"
    if key == "write_bytes":
        return str(job["write"]["io_bytes"])
    if key == "write_p99_ms":
        return f"{job['write']['clat_ns']['percentile']['99.000000'] / 1e6:.3f}"
    if key == "write_iops_min":
        return str(job["write"]["iops_min"])
    if key in ("sync_p50_ms", "sync_p99_ms"):
        percent = "50.000000" if key == "sync_p50_ms" else "99.000000"
        return f"{job['sync']['lat_ns']['percentile'][percent] / 1e6:.3f}"
    raise SystemExit(f"unknown key {key}")


def cold_reads(dev, chunk, count_chunks, seed, start, count):
    # No chunk right after its lower neighbour: s3backer starts read-ahead after two blocks read in order.
    rng = random.Random(seed)
    order = list(range(count_chunks))
    rng.shuffle(order)
    while count_chunks > 2 and any(b == a + 1 for a, b in zip(order, order[1:])):
        rng.shuffle(order)
    picked = order[start:start + count]
    if len(picked) < count:
        raise SystemExit(f"only {count_chunks} chunks: cannot read {count} from position {start}")
    buffer = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    try:
        for index in picked:
            began = time.perf_counter()
            if os.preadv(fd, [buffer], index * chunk) != 4096:
                raise SystemExit(f"short read at chunk {index}")
            print(f"{(time.perf_counter() - began) * 1e3:.3f}")
    finally:
        os.close(fd)


def percentile(p, values):
    values = sorted(values)
    if not values:
        return "nan"
    rank = max(1, math.ceil(p / 100 * len(values)))
    return f"{values[rank - 1]:.3f}"


def main(argv):
    command = argv[1]
    if command == "fio-get":
        for key in argv[3:]:
            print(fio_get(argv[2], key))
    elif command == "cold-reads":
        cold_reads(argv[2], *(int(a) for a in argv[3:8]))
    elif command == "pct":
        values = [float(line) for line in sys.stdin if line.strip()]
        for p in argv[2:]:
            print(percentile(float(p), values))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
