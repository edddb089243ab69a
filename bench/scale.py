"""Scale run: the full default `dispute-stats run` on N and 10 x N cases of Parquet, one after
the other, reported as the cost per case of the large run over the small one, with peak RSS
and the step times the run logs at `-v` (whether the table rows went to disk among them).

Usage: python scale.py --binary PATH [--small 10000000] [--factor 10] [--data DIR]
                       [--memory-limit SIZE]
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import AS_OF, HERE, step_times, timed_logged


def run(binary, path, memory_limit, work):
    out = work / path.stem
    command = [binary, "-v", "run", "--input", str(path), "--as-of", AS_OF, "--out", str(out),
               "--max-reject-rate", "0"]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    seconds, peak, log = timed_logged(command)
    steps = step_times(log)
    spilled = "larger than its memory budget" in log
    shutil.rmtree(out, ignore_errors=True)
    return seconds, peak, steps, spilled


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--small", type=int, default=10_000_000)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--data", default=str(HERE / "data"))
    parser.add_argument("--memory-limit", default=None)
    args = parser.parse_args()
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    sizes = [args.small, args.small * args.factor]
    paths = []
    for cases in sizes:
        path = data / f"cases-{cases}.parquet"
        if not path.exists():
            subprocess.run([args.binary, "generate", "--cases", str(cases), "--seed", "42",
                            "--out", str(path)], check=True)
        paths.append(path)
    work = Path(tempfile.mkdtemp(prefix="dispute-stats-scale-"))
    results = [run(args.binary, path, args.memory_limit, work) for path in paths]
    shutil.rmtree(work, ignore_errors=True)
    (small_s, small_rss, small_steps, small_spilled), (large_s, large_rss, large_steps,
                                                        large_spilled) = results
    ratio = (large_s / sizes[1]) / (small_s / sizes[0])
    names = list(dict.fromkeys(list(small_steps) + list(large_steps)))
    print(f"{'step':20} {sizes[0]:>12} {sizes[1]:>12}")
    for name in names:
        print(f"{name:20} {small_steps.get(name, '-'):>12} {large_steps.get(name, '-'):>12}")
    print(f"{'total':20} {small_s:>12.1f} {large_s:>12.1f}")
    print(f"{'peak RSS MB':20} {small_rss:>12.0f} {large_rss:>12.0f}")
    print(f"{'rows on disk':20} {'yes' if small_spilled else 'no':>12} "
          f"{'yes' if large_spilled else 'no':>12}")
    print(f"small={sizes[0]} large={sizes[1]} format=parquet small_s={small_s:.3f} "
          f"large_s={large_s:.3f} per_case_ratio={ratio:.3f} "
          f"peak_rss_mb_small={small_rss:.0f} peak_rss_mb_large={large_rss:.0f} "
          f"large_on_disk={'yes' if large_spilled else 'no'}")


if __name__ == "__main__":
    sys.exit(main())
