"""Browser tests: the real app under ``streamlit run``, driven by Debian's Chromium via Playwright.

Fixtures
- ``app``: a fresh server per test (own port, own ``LABELLER_DATA_DIR``, so its own SQLite file);
  ``app.url``, ``app.data_dir``, ``app.log_path``. Its log is added to the report of a failed test.
- ``browser``: one Chromium per session (``$CHROMIUM``, default /usr/bin/chromium).
- ``page``: a new context per test with every non-loopback request answered offline: Leaflet and
  Leaflet.draw from ``tests/browser/node_modules`` (``scripts/vendor-leaflet``), map tiles a 1×1
  PNG, other CDN files empty. On failure a screenshot lands in ``test-artifacts/``.

Missing Chromium, Playwright or the Leaflet files skip these tests with the fix to run, unless
``REQUIRE_BROWSER=1`` (the default when ``CI`` is set), where they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.developer_env import DEVELOPER_ENV

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts"
NODE_MODULES = HERE / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
DEFAULT_TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1400, "height": 1000}

# CDN file -> vendored copy (folium 0.20 asks for leaflet@1.9.3 on jsdelivr, leaflet.draw 1.0.2 on cdnjs).
VENDORED = [
    (re.compile(r"/leaflet@[\d.]+/dist/([^?#]+)"), NODE_MODULES / "leaflet" / "dist"),
    (re.compile(r"/leaflet\.draw/[\d.]+/([^?#]+)"), NODE_MODULES / "leaflet-draw" / "dist"),
]
REQUIRED_FILES = [
    NODE_MODULES / "leaflet" / "dist" / "leaflet.js",
    NODE_MODULES / "leaflet" / "dist" / "leaflet.css",
    NODE_MODULES / "leaflet-draw" / "dist" / "leaflet.draw.js",
    NODE_MODULES / "leaflet-draw" / "dist" / "leaflet.draw.css",
]


def _png_1x1(rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes([0, *rgb])))
        + chunk(b"IEND", b"")
    )


TILE_PNG = _png_1x1((230, 230, 230))
"""Every map tile: one light grey pixel."""
NOT_LOOPBACK = re.compile(r"^https?://(?!(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?/)")

NOISE = ("Unrecognized feature:", "An iframe which has both allow-scripts and allow-same-origin")
"""Console warnings every Streamlit page prints; left out of failure reports."""

TIMINGS: dict[str, list[float]] = {"server start": [], "browser launch": []}


def browser_required() -> bool:
    flag = os.environ.get("REQUIRE_BROWSER")
    if flag is not None:
        return flag.strip().lower() in ("1", "true", "yes")
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_requirements() -> list[str]:
    """What stops the browser tests from running, each with the command that fixes it."""
    problems = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        problems.append(
            f"Chromium not found at {CHROMIUM} (install it: sudo apt-get install -y chromium, "
            "or set CHROMIUM=/path/to/chromium)"
        )
    missing = [str(p.relative_to(ROOT)) for p in REQUIRED_FILES if not p.is_file()]
    if missing:
        problems.append(
            f"Leaflet files for the offline map missing ({', '.join(missing)}): run scripts/vendor-leaflet"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is missing (run scripts/setup)")
    return problems


def _skip_or_fail(problems: list[str]) -> None:
    reason = "browser tests cannot run: " + "; ".join(problems)
    if browser_required():
        pytest.fail(reason + " [REQUIRE_BROWSER/CI is set, so this is an error]", pytrace=False)
    pytest.skip(reason)


# --- the app server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    """One ``streamlit run app.py`` process on a free loopback port (``script``: another app file)."""

    data_dir: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    """More environment for the app, e.g. a fake Sentinel Hub's URLs and credentials."""
    script: str = "app.py"
    """The app file, relative to the repository root."""
    options: tuple[str, ...] = ()
    """More ``streamlit run`` options, e.g. ``("--runner.postScriptGC", "true")``."""
    process: subprocess.Popen | None = None
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"

    def start(self, timeout: float = SERVER_START_TIMEOUT_S) -> AppServer:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--global.developmentMode",
            "false",
            "--secrets.files",
            str(self.data_dir / "no-secrets.toml"),
            *self.options,
        ]
        # Never the developer's database, credentials or secrets: a fresh SQLite file in data_dir,
        # and only the endpoints and credentials a test passes in extra_env.
        env = {k: v for k, v in os.environ.items() if k not in DEVELOPER_ENV}
        env |= {"LABELLER_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"} | self.extra_env
        began = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        health = self.url + "_stcore/health"
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"streamlit exited with {code} before it was ready:\n{self.log()}")
            try:
                with no_proxy.open(health, timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() - began > timeout:
                self.stop()
                raise RuntimeError(f"streamlit not healthy at {health} after {timeout:.0f} s:\n{self.log()}")
            time.sleep(0.05)
        self.started_in = time.monotonic() - began
        TIMINGS["server start"].append(self.started_in)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@contextmanager
def serving(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[AppServer]:
    """A fresh app server with its own data folder ``tmp_path/data`` (an empty label database
    unless the test put files there first) and ``extra_env``; stopped at the end."""
    problems = missing_requirements()
    if problems:
        _skip_or_fail(problems)
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    server = AppServer(data_dir=data_dir, log_path=tmp_path / "streamlit.log", extra_env=extra_env or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serving_sentinelhub(tmp_path: Path, fake) -> Iterator[AppServer]:
    """The app with a fake Sentinel Hub's URLs and credentials in its environment, and a
    throw-away config home (``server.config_home``), to show nothing is written there."""
    config_home = tmp_path / "xdg-config"
    config_home.mkdir()
    with serving(tmp_path, {**fake.env("sentinelhub"), "XDG_CONFIG_HOME": str(config_home)}) as server:
        server.config_home = config_home
        yield server


@pytest.fixture
def app(tmp_path) -> Iterator[AppServer]:
    """A fresh app server for this test, with its own data folder (so an empty label database)."""
    with serving(tmp_path) as server:
        yield server


# --- the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    problems = missing_requirements()
    if problems:
        _skip_or_fail(problems)
    from playwright.sync_api import sync_playwright

    began = time.monotonic()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        TIMINGS["browser launch"].append(time.monotonic() - began)
        yield chromium
        chromium.close()


def offline(route) -> None:
    """Answer a request for the outside world from local files, or with something harmless."""
    url = route.request.url
    for pattern, root in VENDORED:
        if (match := pattern.search(url)) and (root / match[1]).is_file():
            return route.fulfill(path=root / match[1])
    if "tile.openstreetmap.org" in url or re.search(r"\.(png|jpe?g|gif|webp)(\?|$)", url):
        return route.fulfill(body=TILE_PNG, content_type="image/png")
    content_type = "text/css" if re.search(r"\.css(\?|$)", url) else "application/javascript"
    return route.fulfill(body="", content_type=content_type)


@pytest.fixture
def context(browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    ctx = browser.new_context(viewport=VIEWPORT, service_workers="block")
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    ctx.route(NOT_LOOPBACK, offline)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.console_messages_seen = []  # errors and warnings, for the failure report

    def on_console(message) -> None:
        if message.type in ("error", "warning") and not message.text.startswith(NOISE):
            page.console_messages_seen.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_messages_seen.append(f"pageerror: {error}"))
    return page


def pytest_collection_modifyitems(items):
    """Every test in this folder is a browser test, marked or not (so ``-m "not browser"`` skips it)."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


# --- reports ------------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure: a screenshot in test-artifacts/, the browser console and the server log in the report."""
    report = yield
    if report.failed:
        _add_failure_evidence(item, report)
    return report


def _add_failure_evidence(item, report) -> None:
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if page is not None and not page.is_closed():
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1]) + f"-{report.when}.png")
        try:
            page.screenshot(path=shot, full_page=True)
            report.sections.append(("screenshot", str(shot)))
        except Exception as error:  # noqa: BLE001 - the report must not hide the real failure
            report.sections.append(("screenshot", f"failed: {error}"))
        if page.console_messages_seen:
            report.sections.append(("browser console", "\n".join(page.console_messages_seen[-50:])))
    server = item.funcargs.get("app") if hasattr(item, "funcargs") else None
    if isinstance(server, AppServer):
        report.sections.append((f"streamlit server log ({server.log_path})", server.log()[-20_000:]))


def pytest_terminal_summary(terminalreporter):
    measured = {name: values for name, values in TIMINGS.items() if values}
    if not measured:
        return
    terminalreporter.section("browser test timings")
    for name, values in measured.items():
        terminalreporter.write_line(
            f"{name}: n={len(values)}, mean {sum(values) / len(values):.2f} s, max {max(values):.2f} s"
        )
