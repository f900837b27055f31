#!/usr/bin/env python3
"""Turns the raw output of bench/peer.sh (run.txt, guest.txt, results.tsv) into the markdown report.

  bench/peer-report.py RAW_DIR > report.md

Each cell is the median over the rounds (the mean of the two middle values for an even count); ratios are taken of
the medians. Per-round values follow in a second table so that drift between rounds stays visible.
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path

SYSTEMS = ("ref", "s3backer", "s3block")

# Rows of the main table: key, label, workload, metric, unit, what the reference is, higher is better.
ROWS = [
    ("sync", "4 KiB write + fdatasync, QD 1", "sync", "iops", "IOPS", "fio on a file on the same disk", True),
    ("to-s3", "{size} written (1 MiB, QD 8), until all in S3", "to-s3", "mbps", "MB/s",
     "rclone PUT of 4 MiB objects, 8 transfers", True),
    ("cold-read", "cold sequential read 1 MiB QD 8 (local cache emptied)", "cold-read", "mbps", "MB/s",
     "rclone GET, 8 transfers", True),
    ("warm-read", "warm random read 4 KiB QD 32 (data cached)", "warm-read", "iops", "IOPS",
     "kernel loop over tmpfs", True),
    ("seq-write", "sequential write 1 MiB QD 8 + fsync, into the device", "seq-write", "mbps", "MB/s",
     "fio on a file on the same disk", True),
]


def read_kv(path):
    facts = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                facts[key.strip()] = value.strip()
    return facts


def read_results(path):
    """{(system, workload, metric): {round: value}}"""
    values = defaultdict(dict)
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) != 5:
                continue
            round_, system, workload, metric, value = parts
            try:
                values[(system, workload, metric)][int(round_)] = float(value)
            except ValueError:
                pass  # a failed measurement ("nan", empty): left out
    return values


def median(per_round):
    return statistics.median(per_round.values()) if per_round else None


def fmt(value, unit=""):
    if value is None:
        return "—"
    if unit in ("IOPS",) or abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def human_bytes(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def main(raw_dir):
    raw = Path(raw_dir)
    run = read_kv(raw / "run.txt")
    guest = read_kv(raw / "guest.txt")
    results = read_results(raw / "results.tsv")
    size = run.get("params", "").split("size=")[1].split()[0] if "size=" in run.get("params", "") else "SIZE"
    smoke = run.get("smoke") == "1"
    out = []
    title = "S3Block vs s3backer, raw S3 and the local disk (bench/peer.sh)"
    out.append(f"# {'SMOKE RUN, NOT A RESULT: ' if smoke else ''}{title}")
    out.append("")
    if smoke:
        out.append("> Smoke run: small sizes, one round, possibly on a busy machine. It shows that the benchmark runs "
                   "and what the report looks like; its numbers are not measurements.")
        out.append("")
    out.append(f"- date: {run.get('date', '?')}; commit: `{run.get('commit', '?')}`; binary: `{run.get('binary', '?')}`")
    out.append(f"- machine: {run.get('host_cpu', '?')}, {run.get('host_cores', '?')} cores, "
               f"{run.get('host_mem_gib', '?')} GiB, Linux {run.get('host_kernel', '?')}; "
               f"load average before {run.get('load_before', '?')}, after {run.get('load_after', '?')}")
    out.append(f"- VM: {run.get('qemu', '?')}, {run.get('vm', '?')}; guest Linux {guest.get('guest_kernel', '?')}; "
               f"state disk: {guest.get('state_disk', '?')}")
    out.append(f"- {run.get('versions', '?')}")
    out.append(f"- parameters: {run.get('params', '?')}; s3backer's loop device direct I/O: "
               f"{guest.get('s3backer_loop_dio', '?')}")
    vm_exit = run.get("vm_exit", "?")
    out.append(f"- VM run: {run.get('vm_seconds', '?')} s, exit status {vm_exit}"
               + ("" if vm_exit == "0" else " (**incomplete: see the raw output**)"))
    rounds = sorted({r for per_round in results.values() for r in per_round if r > 0})
    out.append(f"- medians of {len(rounds)} interleaved round(s)")
    out.append("")

    out.append("| workload | reference (same run) | s3backer 1.5.4 (FUSE + loop) | S3Block | S3Block / reference "
               "| S3Block / s3backer |")
    out.append("|---|---|---|---|---|---|")
    for key, label, workload, metric, unit, reference, _ in ROWS:
        ref, sb, ours = (median(results.get((s, workload, metric), {})) for s in SYSTEMS)
        ours_cell = fmt(ours, unit)
        ref_cell = f"{reference}: {fmt(ref, unit)}"
        sb_cell = fmt(sb, unit)
        if key == "sync":
            p99 = [median(results.get((s, "sync", m), {})) for s in SYSTEMS for m in ("p99_write_ms", "p99_fdatasync_ms")]
            ref_cell += f", p99 {fmt(p99[0])} / {fmt(p99[1])} ms"
            sb_cell += f", p99 {fmt(p99[2])} / {fmt(p99[3])} ms"
            ours_cell += f", p99 {fmt(p99[4])} / {fmt(p99[5])} ms"
        out.append(f"| {label.format(size=size)} | {ref_cell} | {sb_cell} | {ours_cell} | **{ratio(ours, ref)}** "
                   f"| {ratio(ours, sb)} |")
    budget = median(results.get(("ref", "rss", "budget_mib"), {}))
    rss_ours = median(results.get(("s3block", "rss", "peak_mib"), {}))
    rss_sb = median(results.get(("s3backer", "rss", "peak_mib"), {}))
    over = f"budget + {rss_ours - budget:.0f} MiB" if rss_ours is not None and budget is not None else "—"
    out.append(f"| peak RSS (VmHWM, whole run) | S3Block's RAM cache budget {fmt(budget)} MiB | {fmt(rss_sb)} MiB "
               f"| {fmt(rss_ours)} MiB | {over} | {ratio(rss_ours, rss_sb)} |")
    out.append("")
    out.append("p99: write / fdatasync latency (fio reports them apart). \"Until all in S3\": from the first write to "
               "the moment the system reports nothing dirty (S3Block: `s3block_dirty_bytes` 0 and a newer commit, "
               "after SIGUSR1 as `s3block flush` sends; s3backer: `block_cache_dirty_ratio` 0 in its stats file); "
               "the S3Block and s3backer rows also list what fio saw into the device below.")
    out.append("")

    if rounds:
        out.append("Per round (ref / s3backer / S3Block):")
        out.append("")
        out.append("| workload | " + " | ".join(f"round {r}" for r in rounds) + " |")
        out.append("|---|" + "---|" * len(rounds))
        for key, label, workload, metric, unit, _, _ in ROWS:
            cells = []
            for r in rounds:
                vals = [results.get((s, workload, metric), {}).get(r) for s in SYSTEMS]
                cells.append(" / ".join(fmt(v) for v in vals))
            out.append(f"| {key} ({unit}) | " + " | ".join(cells) + " |")
        for system in ("s3backer", "s3block"):
            per_round = results.get((system, "to-s3", "device_mbps"), {})
            if per_round:
                out.append(f"| to-s3, {system}: fio into the device (MB/s) | "
                           + " | ".join(fmt(per_round.get(r)) for r in rounds) + " |")
        out.append("")

    out.append("## Cold read latency: idle vs while the uploader drains a backlog")
    out.append("")
    out.append("4 KiB O_DIRECT reads, one per chunk never read since the local cache was emptied (random order); the "
               "second set right after the backlog was written (1 MiB, QD 8), while it drains. Target (issue 12, point "
               "3): during the backlog within 2× of idle.")
    out.append("")
    out.append("| system | idle p50 / p99 | during backlog p50 / p99 | backlog p50 / idle p50 | backlog written at "
               "| not in S3 before / after the reads |")
    out.append("|---|---|---|---|---|---|")
    for system, name in (("s3backer", "s3backer"), ("s3block", "S3Block")):
        get = lambda w, m: median(results.get((system, w, m), {}))  # noqa: E731
        idle50, idle99 = get("latency-idle", "p50_ms"), get("latency-idle", "p99_ms")
        busy50, busy99 = get("latency-backlog", "p50_ms"), get("latency-backlog", "p99_ms")
        out.append(f"| {name} | {fmt(idle50)} / {fmt(idle99)} ms | {fmt(busy50)} / {fmt(busy99)} ms "
                   f"| {ratio(busy50, idle50)} | {fmt(get('latency-backlog', 'written_mbps'))} MB/s "
                   f"| {fmt(get('latency-backlog', 'dirty_before_mib'))} / {fmt(get('latency-backlog', 'dirty_after_mib'))} MiB |")
    out.append("")
    out.append("A backlog already drained when the reads ended (\"after\" 0) means the reads did not all overlap it.")
    out.append("")

    out.append("## Upload amplification of 4 KiB random writes (S3Block)")
    out.append("")
    out.append("Random 4 KiB writes (QD 32, no fsync) on a fresh volume of each chunk size, counted by the daemon's "
               "metrics from before the writes until all is in S3 (lease renewals and commits included).")
    out.append("")
    out.append("| chunk size | written | write time | S3 requests per GiB written | PUTs per GiB written "
               "| uploaded per GiB written | chunk uploads |")
    out.append("|---|---|---|---|---|---|---|")
    amp = sorted({w for (s, w, m) in results if w.startswith("amp-")},
                 key=lambda w: int(w[4:-3]) << {"KiB": 10, "MiB": 20, "GiB": 30}.get(w[-3:], 0) if w[4:-3].isdigit() else 0)
    for workload in amp:
        get = lambda m: median(results.get(("s3block", workload, m), {}))  # noqa: E731
        written = get("written_bytes")
        if not written:
            continue
        per_gib = (1 << 30) / written
        uploaded = get("uploaded_bytes")
        out.append(f"| {workload[4:]} | {human_bytes(int(written))} | {fmt(get('write_seconds'))} s "
                   f"| {fmt(get('requests') * per_gib)} | {fmt(get('puts') * per_gib)} "
                   f"| {fmt(uploaded * per_gib / (1 << 30))} GiB ({fmt(uploaded / written)}×) "
                   f"| {fmt(get('uploaded_chunks'))} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(main(sys.argv[1]))
