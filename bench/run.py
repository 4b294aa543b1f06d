"""`make bench`: every figure of issue 14 in one table, each a ratio measured in the same run on this machine.

    python bench/run.py             # 1,000 and 10,000 rows (about 10 minutes on 2 cores)
    python bench/run.py --large     # and 50,000 rows (a good while longer)

It runs the three benchmarks in turn, each in its own scratch folder (never var/), and prints one Markdown table,
ready for the README:
- bench/publish.py: publishing an edition vs a bare WeasyPrint render of the same document (wall time, largest
  per-process peak RSS, total RSS of all processes), and republishing after 1% of the rows changed vs cold;
- bench/public_pages.py: the stored register page vs the same bytes as a static file (wrk, gunicorn 2 workers);
- bench/staff_pages.py: the dashboard and every staff list at 10,000 agreements, officer and partner contact.
Each script can also be run alone, with its own, more detailed table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def _run(script: str, *args: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        print(f"== {script} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, str(BENCH / script), *args, "--json", out.name], check=True)  # noqa: S603
        return dict(json.loads(Path(out.name).read_text()))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _row(what: str, measured: str, against: str, ratio: float | None, goal: str, met: bool | None) -> str:
    shown = f"{ratio:.2f}x" if ratio is not None else "-"
    verdict = "-" if met is None else ("yes" if met else "**no**")
    return f"| {what} | {measured} | {against} | {shown} | {goal} | {verdict} |"


def _publish_rows(figures: dict[str, Any]) -> list[str]:
    lines = []
    for size in figures["sizes"]:
        rows, cold, bare, incremental = size["rows"], size["cold"], size["bare"], size["incremental"]
        label = f"Publish {rows:,} rows ({size['pages']} pages)"
        wall = cold["seconds"] / bare["seconds"]
        largest = cold["largest_mb"] / bare["largest_mb"]
        total = cold["total_mb"] / bare["total_mb"]
        lines += [
            _row(
                f"{label}: wall time",
                f"{cold['seconds']:.1f} s",
                f"bare render {bare['seconds']:.1f} s",
                wall,
                "≤ 0.5x",
                wall <= 0.5,
            ),
            _row(
                f"{label}: CPU time, all processes",
                f"{cold['cpu_seconds']:.1f} s",
                f"bare render {bare['cpu_seconds']:.1f} s",
                cold["cpu_seconds"] / bare["cpu_seconds"],
                "-",
                None,
            ),
            _row(
                f"{label}: largest process peak RSS",
                f"{cold['largest_mb']:.0f} MB",
                f"bare render {bare['largest_mb']:.0f} MB",
                largest,
                "≤ 0.3x",
                largest <= 0.3,
            ),
            _row(
                f"{label}: total RSS, all processes",
                f"{cold['total_mb']:.0f} MB",
                f"bare render {bare['total_mb']:.0f} MB",
                total,
                "-",
                None,
            ),
            _row(
                f"Republish {rows:,} rows after 1% changed",
                f"{incremental['seconds']:.1f} s",
                f"cold publish {cold['seconds']:.1f} s",
                incremental["seconds"] / cold["seconds"],
                "≤ 0.1x",
                incremental["seconds"] / cold["seconds"] <= 0.1,
            ),
        ]
    return lines


def _pages_rows(figures: dict[str, Any]) -> list[str]:
    loads, prepared = figures["loads"], figures["prepared"]
    static, stored = loads["static file (WhiteNoise)"], loads["stored page"]
    view = loads["page from its view"]
    label = f"Register page ({prepared['rows']} rows, {prepared['bytes'] / 1024:.0f} KB), gunicorn 2 workers"
    ratio = stored["rps"] / static["rps"]
    return [
        _row(
            f"{label}: stored page requests/s",
            f"{stored['rps']:,.0f}/s",
            f"static file {static['rps']:,.0f}/s",
            ratio,
            "≥ 0.8x",
            ratio >= 0.8,
        ),
        _row(
            f"{label}: stored page p99",
            f"{stored['p99_ms']:.1f} ms",
            f"static file {static['p99_ms']:.1f} ms",
            stored["p99_ms"] / static["p99_ms"],
            "-",
            None,
        ),
        _row(
            f"{label}: from its view (signed in) requests/s",
            f"{view['rps']:,.0f}/s",
            f"static file {static['rps']:,.0f}/s",
            view["rps"] / static["rps"],
            "-",
            None,
        ),
    ]


def _staff_rows(figures: dict[str, Any]) -> list[str]:
    built = figures["built"]
    where = f"{built['agreements']:,} agreements, {built['organisations']:,} organisations"
    lines = []
    for user, name in (
        ("bench-officer", "IG officer"),
        ("bench-partner", "partner contact"),
        ("bench-lead", "IG lead"),
    ):
        for row in figures["results"]:
            if row["user"] != user:
                continue
            what = f"Staff page p50, {name}: {row['page']} ({where})"
            if row["status"] != 200:
                lines.append(_row(what, f"HTTP {row['status']}", "-", None, "-", None))
                continue
            measured = f"{row['p50_ms']:.0f} ms, CPU {row['cpu_p50_ms']:.0f} ms ({row['queries']} queries)"
            if not row.get("list", True):
                lines.append(_row(what, measured, "-", None, "-", None))
                continue
            lines.append(_row(what, measured, "goal 100 ms", row["p50_ms"] / 100, "≤ 1x", row["p50_ms"] <= 100))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="publish 50,000 rows as well")
    parser.add_argument("--processes", default="2", help="worker processes that publish (default 2)")
    args = parser.parse_args()
    started, load = time.monotonic(), os.getloadavg()[0]
    sizes = ["--rows", "1000", "--rows", "10000"] + (["--rows", "50000"] if args.large else [])
    publish = _run("publish.py", *sizes, "--processes", args.processes)
    pages = _run("public_pages.py")
    staff = _run("staff_pages.py")
    minutes = (time.monotonic() - started) / 60
    print()
    print(
        f"On {_cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; publishing on "
        f"{args.processes} worker processes; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        f"end; {minutes:.1f} minutes in all ({time.strftime('%Y-%m-%d')})."
    )
    print()
    print("| What | Measured | Against | Ratio | Goal | Met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for line in [*_publish_rows(publish), *_pages_rows(pages), *_staff_rows(staff)]:
        print(line)


if __name__ == "__main__":
    main()
