"""Store benchmarks: save latency, and the Dataset page and Parquet export at 1,000,000 samples.

    .venv/bin/python benchmarks/store.py                 # SQLite and the local PostgreSQL
    .venv/bin/python benchmarks/store.py --samples 200000 --no-postgresql

Figures (goals from issue 5):
- saving 1,000 pixels of one image: p50 and p95 over --saves saves (goals 30 ms SQLite, 60 ms PostgreSQL);
- the Dataset page on a database of --samples samples, measured in a fresh process: time to
  first render (AppTest.from_file("pages/dataset.py").run(), uncached: it runs every query the
  page makes; goal 2 s), then a Parquet export of all samples as the download button builds it
  (goal 5 s), and the process's peak resident memory over both (goal 600 MB).

Scripts print figures; they never pass or fail on time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from labeller.aoi import AreaOfInterest  # noqa: E402
from labeller.bands import ALL_BAND_NAMES  # noqa: E402
from labeller.campaign import CampaignSpec  # noqa: E402
from labeller.scenes import Acquisition, Scene  # noqa: E402
from labeller.store import Store  # noqa: E402

PG_ADMIN_URL = os.environ.get("LABELLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
AOI = AreaOfInterest(14.5514, 45.8659, 14.5642, 45.8750)  # about 1 km a side near Ljubljana
PIXELS_PER_SAVE = 1000
LABELLERS = ("ana", "bo", "cene", None)


def spec(label: float) -> CampaignSpec:
    return CampaignSpec(
        AOI, label, f"class {label:g}", "", "demo", "sentinel-2-l1c", date(2020, 1, 1), date(2024, 12, 31)
    )


def scene(index: int, rng: np.random.Generator) -> Scene:
    acquisition = Acquisition(
        f"S2A_{index:06d}", datetime(2020, 1, 1, 10, 20, tzinfo=UTC) + timedelta(days=index), 7.5
    )
    bands = rng.random((*AOI.shape, len(ALL_BAND_NAMES)), dtype=np.float32) * 0.6
    return Scene(acquisition, ALL_BAND_NAMES, bands, np.ones(AOI.shape, bool), 35.0, 160.0, harmonised=True)


def pixels(rng: np.random.Generator, n: int = PIXELS_PER_SAVE) -> list[tuple[int, int]]:
    flat = rng.choice(AOI.rows * AOI.cols, size=n, replace=False)
    return [(int(f) // AOI.cols, int(f) % AOI.cols) for f in flat]


# --- Databases ----------------------------------------------------------------------------


class Postgres:
    """A throwaway database on the local server, or None when none is reachable."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(
            PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg2://", 1),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
        )
        self.names: list[str] = []

    def reachable(self) -> bool:
        try:
            with self.admin.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.OperationalError:
            return False

    def new(self) -> str:
        name = f"labeller_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


# --- Save latency -------------------------------------------------------------------------


def save_latency(url: str, saves: int) -> tuple[float, float]:
    """p50 and p95 in ms of saving PIXELS_PER_SAVE pixels of one image (after one warm-up)."""
    store = Store(url)
    rng = np.random.default_rng(1)
    campaign = store.open_campaign(spec(1.0))
    times = []
    for i in range(saves + 1):
        image, chosen = scene(i, rng), pixels(rng)
        began = time.perf_counter()
        store.save(campaign.id, AOI, image, chosen, labeller="bench")
        times.append((time.perf_counter() - began) * 1000)
    store.close()
    times = times[1:]
    return statistics.median(times), float(np.percentile(times, 95))


# --- A million samples --------------------------------------------------------------------


def fill(url: str, samples: int) -> float:
    """Save ``samples`` samples, 1,000 per image, over 20 campaigns; returns seconds taken."""
    store = Store(url)
    rng = np.random.default_rng(2)
    campaigns = [store.open_campaign(spec(float(k))).id for k in range(1, 21)]
    images = [scene(k, rng) for k in range(25)]  # distinct spectra, so the files compress like real ones
    began = time.perf_counter()
    for i in range(samples // PIXELS_PER_SAVE):
        image = images[i % len(images)]
        image = Scene(scene_acquisition(i), image.band_names, image.bands, image.valid, 35.0, 160.0, True)
        store.save(
            campaigns[i % len(campaigns)], AOI, image, pixels(rng), labeller=LABELLERS[i % len(LABELLERS)]
        )
        if i % 100 == 99:
            print(f"  … {(i + 1) * PIXELS_PER_SAVE:,} samples", file=sys.stderr, flush=True)
    store.close()
    return time.perf_counter() - began


def scene_acquisition(index: int) -> Acquisition:
    return Acquisition(
        f"S2A_{index:06d}", datetime(2020, 1, 1, 10, 20, tzinfo=UTC) + timedelta(days=index), 7.5
    )


def measure_page(url: str) -> dict:
    """In this (fresh) process: first render of the Dataset page, then a Parquet export."""
    from streamlit.testing.v1 import AppTest

    from labeller import export

    os.environ["LABELLER_DATABASE_URL"] = url
    os.chdir(ROOT)
    out: dict = {}
    at = AppTest.from_file(str(ROOT / "pages" / "dataset.py"), default_timeout=600)
    began = time.perf_counter()
    at.run()
    out["first_render_s"] = time.perf_counter() - began
    out["page_exception"] = [str(e.value) for e in at.exception]
    out["page_metric"] = at.metric[0].value if at.metric else None
    began = time.perf_counter()
    at.run()
    out["rerun_s"] = time.perf_counter() - began
    out["rss_after_render_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    store = Store(url)
    timings = {}
    for name, call in [
        ("campaigns", store.campaigns),
        ("labellers", store.labellers),
        ("data_version", store.data_version),
        ("count_samples", store.count_samples),
        ("band_means", lambda: store.band_means(every=-(-store.count_samples() // 200_000))),  # as the page
        ("sample_points", store.sample_points),
        ("sample_preview", store.sample_preview),
        ("counts", store.counts),
    ]:
        began = time.perf_counter()
        call()
        timings[name] = time.perf_counter() - began
    out["query_s"] = timings
    campaigns = store.campaigns()
    began = time.perf_counter()
    data = export.to_parquet_bytes(store.sample_batches(), campaigns)  # what the download button runs
    out["parquet_s"] = time.perf_counter() - began
    out["parquet_mb"] = len(data) / 1e6
    del data
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    data = export.to_ml_parquet_bytes(store.sample_batches(), campaigns)
    out["ml_parquet_s"] = time.perf_counter() - began
    del data
    out["peak_rss_with_ml_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store.close()
    return out


def page_figures(url: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--measure-page", url], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"page measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_page(backend: str, figures: dict, fill_s: float, samples: int) -> None:
    print(f"\nDataset page, {backend}, {samples:,} samples (filled in {fill_s:.0f} s):")
    print(
        f"  first render (AppTest, uncached, all page queries): {figures['first_render_s']:.2f} s  (goal 2 s)"
        f"; metric shown {figures['page_metric']}; errors {figures['page_exception'] or 'none'}"
    )
    print(f"  rerun (cached by data version): {figures['rerun_s']:.2f} s")
    queries = ", ".join(f"{k} {v * 1000:.0f}" for k, v in figures["query_s"].items())
    print(f"  store calls the page makes (ms): {queries}")
    print(
        f"  Parquet export of all samples: {figures['parquet_s']:.2f} s, "
        f"{figures['parquet_mb']:.0f} MB  (goal 5 s)"
    )
    print(
        f"  peak memory (render + Parquet export): {figures['peak_rss_mb']:.0f} MB  (goal 600 MB)"
        f"; after render alone {figures['rss_after_render_mb']:.0f} MB"
    )
    print(
        f"  ML-ready Parquet export: {figures['ml_parquet_s']:.2f} s; "
        f"peak with it {figures['peak_rss_with_ml_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--saves", type=int, default=60, help="saves timed per backend")
    parser.add_argument("--samples", type=int, default=1_000_000, help="samples for the Dataset page figures")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    parser.add_argument("--page-postgresql", action="store_true", help="also fill PostgreSQL with --samples")
    parser.add_argument("--measure-page", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_page:
        print(json.dumps(measure_page(args.measure_page)))
        return

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores (os.cpu_count()), "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"Python {sys.version.split()[0]}, SQLAlchemy {sa.__version__}"
    )
    postgres = Postgres()
    use_pg = not args.no_postgresql and postgres.reachable()
    if not args.no_postgresql and not use_pg:
        print(
            "PostgreSQL: not reachable at "
            f"{sa.make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}; skipped"
        )
    try:
        with tempfile.TemporaryDirectory() as folder:
            print(f"\nSaving {PIXELS_PER_SAVE:,} pixels of one image, {args.saves} saves:")
            p50, p95 = save_latency(Store.sqlite_url(Path(folder) / "latency"), args.saves)
            print(f"  SQLite:     p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (goal 30 ms)")
            if use_pg:
                p50, p95 = save_latency(postgres.new(), args.saves)
                print(f"  PostgreSQL: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (goal 60 ms)")

            url = Store.sqlite_url(Path(folder) / "million")
            fill_s = fill(url, args.samples)
            report_page("SQLite", page_figures(url), fill_s, args.samples)
            if use_pg and args.page_postgresql:
                url = postgres.new()
                fill_s = fill(url, args.samples)
                report_page("PostgreSQL", page_figures(url), fill_s, args.samples)
    finally:
        if use_pg:
            postgres.drop_all()


if __name__ == "__main__":
    main()
