"""Benchmark: publish one edition of the Sub Licence Release Register with N active sub-licences.

    python bench/publish.py --rows 100 --rows 1000 --rows 10000

Each N runs in a fresh process with a scratch SQLite database and media folder (never var/), so the peak RSS is
that run's own. It prints the wall time of edition_publish (snapshot, render of all four formats, publish), the
peak RSS, the PDF's page count, and for comparison a bare WeasyPrint render of the same table (the same HTML,
straight to PDF). The issue's bar: at 1,000 rows, publishing takes at most twice the bare render.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(rows: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "register.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from pypdf import PdfReader

    from agreements.models import Agreement, DataLevel, Organisation, Party
    from publishing import render, services

    on = dt.date(2025, 10, 22)
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
    register = services.register_ensure(slug="sub-licences")

    started = time.perf_counter()
    edition = services.edition_publish(register=register, on=on)
    publish_seconds = time.perf_counter() - started
    assert edition.status == "published", edition.error
    assert edition.row_count == rows, (edition.row_count, rows)

    html = render.pdf_document_html(services.edition_content(edition))
    started = time.perf_counter()
    from weasyprint import HTML

    HTML(string=html).write_pdf()
    bare_seconds = time.perf_counter() - started

    with edition.files.get(format="pdf").file.open("rb") as handle:
        pages = len(PdfReader(io.BytesIO(handle.read())).pages)
    return {
        "rows": rows,
        "publish_seconds": round(publish_seconds, 2),
        "bare_weasyprint_seconds": round(bare_seconds, 2),
        "ratio": round(publish_seconds / bare_seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pages": pages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="number of sub-licences (repeatable)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    sizes = args.rows or [100, 1000, 10000]
    if any(n < 1 for n in sizes):
        parser.error("--rows must be at least 1")
    print(f"{'rows':>7} {'publish s':>10} {'bare WeasyPrint s':>18} {'ratio':>6} {'peak RSS MB':>12} {'pages':>6}")
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as scratch:
            env = {
                **os.environ,
                "DEBUG": "true",
                "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
                "MEDIA_ROOT": f"{scratch}/media",
                "CELERY_BROKER_URL": "",
            }
            output = subprocess.run(  # noqa: S603 - our own script, fixed arguments
                [sys.executable, __file__, "--child", str(rows)], env=env, capture_output=True, text=True, check=False
            )
            if output.returncode:
                sys.exit(f"The run with {rows} rows failed:\n{output.stderr[-3000:]}")
            result = json.loads(output.stdout.strip().splitlines()[-1])
        print(
            f"{result['rows']:>7} {result['publish_seconds']:>10} {result['bare_weasyprint_seconds']:>18} "
            f"{result['ratio']:>6} {result['peak_rss_mb']:>12} {result['pages']:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
