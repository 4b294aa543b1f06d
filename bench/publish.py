"""Benchmark: publishing an edition of the Sub Licence Release Register against a bare WeasyPrint render.

    python bench/publish.py                       # 1,000 and 10,000 rows (make bench)
    python bench/publish.py --large               # and 50,000
    python bench/publish.py --rows 2000 --processes 2

For each N, in one run and on the same machine:
- publish: edition_publish as `make run` does it with no broker: snapshot, the PDF's pieces in a pool of
  --processes worker processes (the same parts a Celery worker runs) while this process writes the text formats
  from the stored rows, the furniture (running header,
  footer and page numbers) likewise, assembly, storage. Not the stored public pages, which are written after the
  edition is published (bench/public_pages.py). A fresh
  process with a scratch SQLite database and media folder (never var/).
- incremental: the same register re-published after 1% of its rows changed (a contiguous run of partners
  renamed, as a quarter's amendments come), in the same process: unchanged chunks are re-used.
- bare: WeasyPrint alone rendering the same document (the whole register as one HTML, untagged) in a fresh
  process: what a single render costs.
Each is measured for wall time, CPU time (all processes), the largest peak RSS of any one process (VmHWM,
reset at the start of the phase), and the largest total RSS of the process and its children at once (sampled
every 20 ms). Ratios are publish / bare. The issue's goal: wall <= 0.5x and largest process <= 0.3x at 10,000
rows on 2 workers. On a shared machine wall times depend on what else runs: the CPU columns say how much work
each did.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------------------
# Memory: /proc, Linux only.


def _status(pid: int) -> dict[str, int]:
    values = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, amount, _ = line.split()
                    values[name[:-1]] = int(amount)
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values


def _descendants(pid: int) -> list[int]:
    """Every process under `pid`, from each process's parent in /proc/*/stat. Not /proc/PID/task/TID/children,
    which lists only what that thread started and, the kernel says, may miss children of a running process (a
    whole worker pool went unseen in one run)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        children = parents.get(queue.pop(), [])
        found += children
        queue += children
    return found


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far (not its children's)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Memory:
    """Peak RSS and CPU time of this process and of every process under it while a phase runs: the pool's
    processes are the children of a fork server, not of this process, so getrusage would not count them."""

    def __init__(self) -> None:
        self.largest_kb = 0
        self.total_kb = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Memory:
        # Writing 5 to clear_refs resets VmHWM (Linux 4.0+), so that setting the database up does not count.
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        self._before = {pid: _cpu_seconds(pid) for pid in [os.getpid(), *_descendants(os.getpid())]}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._measure()

    @property
    def cpu_seconds(self) -> float:
        """CPU time spent during the phase, by every process seen (a process that lived less than one sample, 20 ms,
        is missed)."""
        return sum(max(0.0, seconds - self._before.get(pid, 0.0)) for pid, seconds in self.cpu.items())

    def _measure(self) -> None:
        me = os.getpid()
        total = 0
        for pid in [me, *_descendants(me)]:
            status = _status(pid)
            total += status.get("VmRSS", 0)
            self.largest_kb = max(self.largest_kb, status.get("VmHWM", 0))
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_seconds(pid))
        self.total_kb = max(self.total_kb, total)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._measure()


def _measured(function: Callable[[], Any]) -> dict[str, float]:
    with Memory() as memory:
        started = time.perf_counter()
        function()
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": memory.cpu_seconds,
        "largest_mb": memory.largest_kb / 1024,
        "total_mb": memory.total_kb / 1024,
    }


# ---------------------------------------------------------------------------------------------------------
# The child processes.


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "register.settings")
    import django

    django.setup()


def _seed(rows: int) -> None:
    from agreements.models import Agreement, DataLevel, Organisation, Party

    parent = Agreement.objects.create(
        kind=Agreement.Kind.DSA,
        reference="DARS-NIC-000001-BENCH",
        title="Parent",
        status=Agreement.Status.ACTIVE,
        start_date=dt.date(2020, 4, 1),
        end_date=dt.date(2030, 3, 31),
        data_level=DataLevel.PSEUDONYMISED,
        article_6_basis="6_1_e",
        common_law_basis="not_confidential",
        permits_sub_licensing=True,
    )
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Partner organisation {n}",
            ods_code=f"B{n:05d}",
            kind=Organisation.Kind.LOCAL_AUTHORITY,
            dspt_status=Organisation.DsptStatus.MET,
            dspt_assessment_year="2025-26",
            ico_registration_number=f"Z{n:07d}",
        )
        for n in range(1, rows + 1)
    )
    agreements = Agreement.objects.bulk_create(
        Agreement(
            kind=Agreement.Kind.SUB_LICENCE,
            reference=f"SL/25/{n}",
            title=f"Sub-licence {n}",
            parent=parent,
            status=Agreement.Status.ACTIVE,
            start_date=dt.date(2025, 4, 1),
            end_date=dt.date(2028, 3, 31),
            data_level=DataLevel.PSEUDONYMISED,
            article_6_basis="6_1_e",
            common_law_basis="not_confidential",
        )
        for n in range(1, rows + 1)
    )
    Party.objects.bulk_create(
        Party(agreement=agreement, organisation=organisation, role=Party.Role.SUB_LICENSEE)
        for agreement, organisation in zip(agreements, organisations, strict=True)
    )


def _publish_child(rows: int, content_path: str) -> dict[str, Any]:
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from agreements.models import Organisation
    from publishing import services

    _seed(rows)
    # What seeding made is not kept: the publishing process's memory is measured, not the benchmark's.
    gc.collect()
    register = services.register_ensure(slug="sub-licences")
    on = dt.date(2025, 10, 22)
    editions = []

    def publish() -> None:
        edition = services.edition_publish(register=register, on=on, trigger="command")
        assert edition.status == "published", edition.error
        assert edition.row_count == rows, (edition.row_count, rows)
        editions.append(edition)

    cold = _measured(publish)
    # 1% of the rows change: a contiguous run of partners renamed, in the middle of the table.
    renamed = range(rows // 2 + 1, rows // 2 + 1 + max(1, rows // 100))
    changed = list(Organisation.objects.filter(ods_code__in=[f"B{n:05d}" for n in renamed]))
    for organisation in changed:
        organisation.name = f"{organisation.name} (renamed)"
    Organisation.objects.bulk_update(changed, ["name"])
    incremental = _measured(publish)
    with open(content_path, "w") as handle:
        # The rows as a list (the content reads them from the database as it is iterated); the PDF has no entries.
        content = services.edition_content(editions[0], with_entries=False)
        json.dump({**content.__dict__, "rows": list(content.rows)}, handle, default=str)
    from pypdf import PdfReader

    with editions[0].files.get(format="pdf").file.open("rb") as stored:
        pages = len(PdfReader(stored).pages)
    return {"publish": cold, "incremental": incremental, "pages": pages}


def _bare_child(content_path: str) -> dict[str, Any]:
    _django()
    from django.conf import settings
    from weasyprint import HTML

    from publishing import pdf
    from publishing.render import EditionContent

    with open(content_path) as handle:
        fields = json.load(handle)
    fields["last_updated"] = dt.date.fromisoformat(fields["last_updated"])
    content = EditionContent(**fields)
    spec = pdf.single_spec(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS)
    from django.template.loader import render_to_string

    html = render_to_string(pdf.PDF_TEMPLATE, {**spec, "blank_pages": range(0)})
    return {"bare": _measured(lambda: HTML(string=html).write_pdf())}


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    output = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if output.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{output.stderr[-3000:]}")
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="number of sub-licences (repeatable)")
    parser.add_argument("--large", action="store_true", help="add 50,000 rows (several minutes more)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes that publish (default 2)")
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    parser.add_argument("--child", choices=["publish", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--content", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "publish":
        print(json.dumps(_publish_child(args.rows[0], args.content)))
        return
    if args.child == "bare":
        print(json.dumps(_bare_child(args.content)))
        return
    sizes = args.rows or [1000, 10000]
    if args.large:
        sizes.append(50000)
    if any(n < 1 for n in sizes):
        parser.error("--rows must be at least 1")

    print(
        f"Publishing vs a bare WeasyPrint render, {args.processes} worker processes, {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f} at the start (the machine may be shared)."
    )
    started = time.monotonic()
    header = (
        f"{'rows':>7} {'pages':>6} | {'publish s':>9} {'bare s':>7} {'ratio':>6} | {'CPU s':>6} {'bare':>6} "
        f"{'ratio':>6} | {'largest MB':>10} {'bare MB':>8} {'ratio':>6} | {'total MB':>8} {'ratio':>6} | "
        f"{'increm. s':>9} {'vs cold':>7}"
    )
    print(header)
    print("-" * len(header))
    figures = []
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as scratch:
            env = {
                **os.environ,
                "DEBUG": "true",
                "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
                "MEDIA_ROOT": f"{scratch}/media",
                "CELERY_BROKER_URL": "",
                "PUBLISH_LOCAL_PROCESSES": str(args.processes),
                # The edition's files only: the stored public pages are written after it is published (a task of
                # their own, which bench/public_pages.py measures), not part of publishing it.
                "PUBLIC_PAGES_SERVE": "false",
            }
            content = f"{scratch}/content.json"
            published = _run(["--child", "publish", "--rows", str(rows), "--content", content], env)
            bare = _run(["--child", "bare", "--content", content], env)["bare"]
        cold, incremental = published["publish"], published["incremental"]
        figures.append(
            {"rows": rows, "pages": published["pages"], "cold": cold, "incremental": incremental, "bare": bare}
        )
        print(
            f"{rows:>7} {published['pages']:>6} | {cold['seconds']:>9.1f} {bare['seconds']:>7.1f} "
            f"{cold['seconds'] / bare['seconds']:>5.2f}x | {cold['cpu_seconds']:>6.1f} {bare['cpu_seconds']:>6.1f} "
            f"{cold['cpu_seconds'] / bare['cpu_seconds']:>5.2f}x | "
            f"{cold['largest_mb']:>10.0f} {bare['largest_mb']:>8.0f} "
            f"{cold['largest_mb'] / bare['largest_mb']:>5.2f}x | {cold['total_mb']:>8.0f} "
            f"{cold['total_mb'] / bare['total_mb']:>5.2f}x | {incremental['seconds']:>9.1f} "
            f"{incremental['seconds'] / cold['seconds']:>6.2f}x",
            flush=True,
        )
    print(f"Load average {os.getloadavg()[0]:.1f} at the end; {time.monotonic() - started:.0f} s in all.")
    if args.json:
        Path(args.json).write_text(json.dumps({"processes": args.processes, "sizes": figures}))


if __name__ == "__main__":
    main()
