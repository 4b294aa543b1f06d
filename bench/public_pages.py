"""Benchmark: the current register page served from storage vs the same bytes as a static file, same server, same run.

    python bench/public_pages.py [--rows 100] [--duration 10] [--connections 16] [--port 8600]

In a scratch folder (never var/), with production settings (DEBUG off, hashed static files, collectstatic),
it publishes the demo register plus N active sub-licences, copies the current register page's bytes into
STATIC_ROOT, and starts gunicorn with 2 workers. Then wrk (Debian package `wrk`) loads, in turn and for the same
time each: the static copy (WhiteNoise), the stored page (publishing/pages.py), and the page from its view (a
session cookie sends the request there), and prints requests/s and p99 latency with the ratios to the static file.
The issue's bar: the stored page at >= 0.8x the static file's requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/registers/sub-licences/"
STATIC_COPY = "/static/bench/register-page.html"


def _setup(rows: int) -> None:
    """In the scratch environment: migrate, the demo, N more sub-licences, publish, static files, the page's copy."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "register.settings")
    import datetime as dt

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    # Before anything renders: pages name the static files by their hashed names.
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("load_demo", verbosity=0)
    from agreements.models import Agreement, DataLevel, Organisation, Party
    from publishing import pages, services

    parent = Agreement.objects.filter(kind=Agreement.Kind.DSA, permits_sub_licensing=True).first()
    assert parent is not None, "the demo has the ICB's NHS England agreement"
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Bench partner {n}",
            ods_code=f"BP{n:05d}",
            kind=Organisation.Kind.LOCAL_AUTHORITY,
            dspt_status=Organisation.DsptStatus.MET,
            dspt_assessment_year=pages_year(),
            ico_registration_number=f"Z{n:07d}",
        )
        for n in range(1, rows + 1)
    )
    agreements = Agreement.objects.bulk_create(
        Agreement(
            kind=Agreement.Kind.SUB_LICENCE,
            reference=f"BENCH/{n}",
            title=f"Bench sub-licence {n}",
            parent=parent,
            status=Agreement.Status.ACTIVE,
            start_date=parent.start_date,
            end_date=parent.end_date,
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
    edition = services.edition_publish(register=register, on=dt.date.today(), trigger="command")
    assert edition.status == "published", edition.error
    # The publication stored the pages already; store them again from nothing, to time it.
    from django.core.files.storage import default_storage

    pages.public_pages_invalidate()
    default_storage.delete(pages.LATEST)
    started = time.perf_counter()
    counts = pages.public_pages_refresh()
    refresh_seconds = time.perf_counter() - started
    response = Client(HTTP_HOST="127.0.0.1").get(PAGE, HTTP_COOKIE="sessionid=bench")
    assert response.status_code == 200
    copy = Path(settings.STATIC_ROOT) / STATIC_COPY.removeprefix("/static/")
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(response.content)
    print(
        json.dumps(
            {"rows": edition.row_count, "bytes": len(response.content), "refresh": counts, "seconds": refresh_seconds}
        )
    )


def pages_year() -> str:
    """The DSPT assessment year current today (April to March), so the bench partners are assured."""
    import datetime as dt

    today = dt.date.today()
    start = today.year if today.month >= 4 else today.year - 1
    return f"{start}-{str(start + 1)[-2:]}"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, *, duration: int, connections: int, headers: list[str]) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    if "Non-2xx" in output:
        sys.exit(f"wrk saw errors for {url}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return {"rps": rps, "p99_ms": float(value) * _UNITS[unit]}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own local server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.read(), dict(response.headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100, help="sub-licences added to the demo's one (default 100)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL and round (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three loads, alternated (default 2)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8600")))
    parser.add_argument("--json", help="also write the figures to this file (bench/run.py reads it)")
    parser.add_argument("--setup", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup is not None:
        _setup(args.setup)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as scratch:
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3",
            "MEDIA_ROOT": f"{scratch}/media",
            "STATIC_ROOT": f"{scratch}/static",
            "CELERY_BROKER_URL": "",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
        }
        setup = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, __file__, "--setup", str(args.rows)], env=env, capture_output=True, text=True, cwd=ROOT
        )
        if setup.returncode:
            sys.exit(f"Setting up failed:\n{setup.stderr[-3000:]}")
        prepared = json.loads(setup.stdout.strip().splitlines()[-1])

        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(  # noqa: S603
            [str(gunicorn), "register.wsgi:application", "--bind", f"127.0.0.1:{args.port}", "--workers", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    _get(base + STATIC_COPY)
                    break
                except OSError:
                    time.sleep(0.2)
            static_body, _ = _get(base + STATIC_COPY)
            page_body, page_headers = _get(base + PAGE)
            view_body, view_headers = _get(base + PAGE, {"Cookie": "sessionid=bench"})
            assert static_body == page_body == view_body, "the three must be the same bytes"
            assert "ETag" in page_headers and "ETag" not in view_headers, "the stored page must come from storage"

            loads = {
                "static file (WhiteNoise)": (base + STATIC_COPY, []),
                "stored page": (base + PAGE, []),
                "page from its view": (base + PAGE, ["Cookie: sessionid=bench"]),
            }
            results: dict[str, list[dict[str, float]]] = {name: [] for name in loads}
            for _ in range(args.rounds):
                for name, (url, headers) in loads.items():
                    results[name].append(
                        _wrk(url, duration=args.duration, connections=args.connections, headers=headers)
                    )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    print(
        f"Register page, {prepared['rows']} rows, {prepared['bytes']:,} bytes; gunicorn 2 workers, DEBUG off; "
        f"wrk {args.connections} connections, {args.rounds} x {args.duration} s each, alternated. "
        f"Storing the pages took {prepared['seconds']:.1f} s ({prepared['refresh']})."
    )
    static_rps = sum(r["rps"] for r in results["static file (WhiteNoise)"]) / args.rounds
    static_p99 = sum(r["p99_ms"] for r in results["static file (WhiteNoise)"]) / args.rounds
    print(f"{'':28} {'requests/s':>11} {'x static':>9} {'p99 ms':>8} {'x static':>9}")
    for name, runs in results.items():
        rps = sum(r["rps"] for r in runs) / len(runs)
        p99 = sum(r["p99_ms"] for r in runs) / len(runs)
        print(f"{name:28} {rps:>11.0f} {rps / static_rps:>9.2f} {p99:>8.1f} {p99 / static_p99:>9.2f}")
    if args.json:
        averaged = {
            name: {key: sum(run[key] for run in runs) / len(runs) for key in ("rps", "p99_ms")}
            for name, runs in results.items()
        }
        Path(args.json).write_text(json.dumps({"prepared": prepared, "loads": averaged}))


if __name__ == "__main__":
    main()
