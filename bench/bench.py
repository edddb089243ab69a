"""Benchmark harness: ours (the full `dispute-stats run`) against the peer (DuckDB running
the same tables) and the floor (one DuckDB pass decoding every column the suite uses), side
by side in one run, reported as ratios. Wall-time medians over --runs, peak RSS of ours.
A second table splits the time: ours (from the step times it logs at -v) and DuckDB (from the
peer's own timing) into loading the table and running the reports on it.

Usage: python bench.py --binary PATH --cases N [--runs R] [--formats csv,parquet]
                       [--data DIR] [--max-ratio-floor X]
"""
import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2024-09-30"
COLUMNS = ["case_id", "opened_on", "closed_on", "outcome", "debt_type", "region", "channel",
           "stage", "amount_claimed", "amount_recovered", "debt_age_days", "fee_rate",
           "complaint", "complaint_upheld", "cross_border"]


def timed_logged(command):
    """Runs a command; returns (seconds, peak RSS in MiB of the child, its stderr)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(map(str, command))}\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stderr


def step_times(log):
    """The step times a run logs at -v: step name to seconds, as logged."""
    return dict(re.findall(r'step="([^"]+)" seconds="([0-9.]+)"', log))


def floor_command(python, path):
    reader = f"read_parquet('{path}')" if str(path).endswith(".parquet") else f"read_csv('{path}', header=true)"
    counts = ", ".join(f"count({c})" for c in COLUMNS)
    script = f"import duckdb; duckdb.connect().execute(\"SELECT {counts} FROM {reader}\").fetchall()"
    return [python, "-c", script]


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], {r[0] if len(rows[0]) > 1 else "all": r for r in rows[1:]}


def same(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-9 * max(1.0, abs(y))


def check_same_numbers(ours, theirs):
    """Every peer table cell equals ours (by key and column name)."""
    compared = 0
    for peer in sorted(theirs.glob("*.csv")):
        peer_header, peer_rows = read_table(peer)
        our_header, our_rows = read_table(ours / "tables" / peer.name)
        if peer.name.startswith("resolution_time"):
            # The peer keys the overall row as 'all'.
            our_rows = {("all" if len(our_rows) == 1 else k): v for k, v in our_rows.items()}
        for key, row in peer_rows.items():
            mine = our_rows.get(key)
            if mine is None:
                sys.exit(f"{peer.name}: no row {key} in ours")
            for column, value in zip(peer_header, row):
                if column == "grp":
                    continue
                index = our_header.index(column)
                if not same(mine[index], value):
                    sys.exit(f"{peer.name} {key} {column}: ours {mine[index]} vs duckdb {value}")
                compared += 1
    return compared


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--data", default=str(HERE / "data"))
    parser.add_argument("--max-ratio-floor", type=float, default=None)
    args = parser.parse_args()
    python = sys.executable
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    lines, splits = [], []
    for fmt in args.formats.split(","):
        path = data / f"cases-{args.cases}.{fmt}"
        if not path.exists():
            subprocess.run([args.binary, "generate", "--cases", str(args.cases), "--seed", "42",
                            "--out", str(path)], check=True)
        work = Path(tempfile.mkdtemp(prefix="dispute-stats-bench-"))
        config = work / "bench.toml"
        # Disclosure control off for the comparison run only, so every cell can be compared.
        config.write_text("[privacy]\nmin_cell = 1\ndominance_k = 100.0\n")
        ours_times, peer_times, floor_times, rss = [], [], [], []
        ours_load, ours_rest, peer_load, peer_queries = [], [], [], []
        for run in range(args.runs):
            out = work / f"ours-{run}"
            seconds, peak, log = timed_logged([args.binary, "-v", "run", "--input", str(path),
                                               "--as-of", AS_OF, "--out", str(out),
                                               "--max-reject-rate", "0"])
            ours_times.append(seconds)
            rss.append(peak)
            steps = {name: float(seconds) for name, seconds in step_times(log).items()}
            ours_load.append(steps["ingest"] + steps["cases table"])
            ours_rest.append(sum(steps.values()) - ours_load[-1])
            seconds, _, log = timed_logged([python, str(HERE / "peer_duckdb.py"), str(path), AS_OF,
                                            str(work / f"peer-{run}")])
            peer_times.append(seconds)
            split = dict(re.findall(r"(load_s|queries_s)=([0-9.]+)", log))
            peer_load.append(float(split["load_s"]))
            peer_queries.append(float(split["queries_s"]))
            seconds, _, _ = timed_logged(floor_command(python, path))
            floor_times.append(seconds)
        # Same numbers: one run of ours without disclosure control against the peer.
        check_out = work / "check"
        subprocess.run([args.binary, "run", "--input", str(path), "--as-of", AS_OF, "--out",
                        str(check_out), "--config", str(config), "--max-reject-rate", "0"],
                       check=True, stdout=subprocess.DEVNULL)
        compared = check_same_numbers(check_out / "all", work / "peer-0")
        ours_s, peer_s, floor_s = (statistics.median(x) for x in (ours_times, peer_times, floor_times))
        line = (f"cases={args.cases} format={fmt} ours_s={ours_s:.3f} duckdb_s={peer_s:.3f} "
                f"floor_s={floor_s:.3f} ratio_duckdb={ours_s / peer_s:.3f} "
                f"ratio_floor={ours_s / floor_s:.3f} peak_rss_mb={max(rss):.0f}")
        print(f"{fmt}: {compared} cells equal to DuckDB's; runs={args.runs}", file=sys.stderr)
        lines.append(line)
        splits.append((fmt, *(statistics.median(x) for x in (ours_load, ours_rest, peer_load,
                                                               peer_queries)), floor_s))
        shutil.rmtree(work, ignore_errors=True)
        if args.max_ratio_floor and ours_s / floor_s > args.max_ratio_floor:
            print(line)
            sys.exit(f"gross regression: ratio_floor {ours_s / floor_s:.1f} > {args.max_ratio_floor}")
    print(f"{'format':8} {'ours_s':>8} {'duckdb_s':>9} {'floor_s':>8} {'ours/duckdb':>12} {'ours/floor':>11} {'rss_mb':>7}")
    for line in lines:
        f = dict(kv.split("=") for kv in line.split())
        print(f"{f['format']:8} {f['ours_s']:>8} {f['duckdb_s']:>9} {f['floor_s']:>8} "
              f"{f['ratio_duckdb']:>12} {f['ratio_floor']:>11} {f['peak_rss_mb']:>7}")
    print()
    print("where the time goes (medians, s): loading the table, then the reports on it")
    print(f"{'format':8} {'ours_load':>10} {'ours_reports':>13} {'duckdb_load':>12} "
          f"{'duckdb_queries':>15} {'floor_s':>8} {'duckdb_queries/floor':>21}")
    for fmt, o_load, o_rest, d_load, d_queries, floor_s in splits:
        print(f"{fmt:8} {o_load:>10.3f} {o_rest:>13.3f} {d_load:>12.3f} {d_queries:>15.3f} "
              f"{floor_s:>8.3f} {d_queries / floor_s:>21.2f}")
    print()
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
