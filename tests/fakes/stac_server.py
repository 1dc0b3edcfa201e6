"""A local fake of Earth Search: a STAC API (stac-server's behaviour) and an S3-like COG host.

Threaded, loopback, random port (or ``--port``). Serves the items of ``s2_cogs`` (COGs made
from the real sample):

- ``GET /``: landing page with conformance classes (core, item-search, query);
- ``POST /search``: collections, bbox, datetime, ids, ``query`` on ``eo:cloud_cover``;
  pages of at most ``max_page`` items; a ``next`` link (POST, the request body plus a ``next``
  token) on every non-empty page, so the last page is empty; CQL2 ``filter`` ignored;
- ``GET``/``HEAD /cogs/<item>/<band>.tif`` the way S3 answers: ``HEAD`` with the length,
  ``206`` for one byte range, ``416`` for a range past the end, ``200`` with the whole object
  for several ranges in one request (S3 neither answers multipart nor the first range).

Every request is counted (``requests``: method, path, Range, status, bytes sent; from another
process: ``GET /_fake/counts``, ``POST /_fake/reset``). Faults are
rules matched by path (``fault(...)``): an HTTP status (optionally only ``times`` times),
a truncated or a corrupt object, a delay; ``latency`` adds seconds to every request.

Standalone (for the browser test and a person)::

    python -m tests.fakes.stac_server --port 8766 [--latency 0.1]

then ``LABELLER_STAC_URL=http://127.0.0.1:8766`` (printed on start).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.fakes import s2_cogs
from tests.fakes.s2_cogs import FakeItem, item_json

COLLECTION = "sentinel-2-c1-l2a"
CONFORMS_TO = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")
S3_ERRORS = {
    403: ("AccessDenied", "Access Denied"),
    404: ("NoSuchKey", "The specified key does not exist."),
    429: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}
"""S3's error code and message for an injected status on a COG."""


@dataclass
class Fault:
    """What to do to requests whose path contains ``path``."""

    path: str
    status: int | None = None
    """Answer this HTTP status instead."""
    times: int | None = None
    """Only for this many matching requests (None: always)."""
    truncate: float | None = None
    """Serve the object cut to this fraction of its length (a truncated upload)."""
    corrupt: float | None = None
    """Serve the object with its bytes from this fraction on inverted (tiles that cannot decode)."""
    delay: float = 0.0
    """Wait this long before answering (a timeout when longer than the client's)."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range: str | None
    status: int
    sent: int
    """Body bytes sent."""


class FakeEarthSearch:
    """``with FakeEarthSearch(cog_root) as fake: fake.url ...``"""

    def __init__(
        self,
        cog_root: Path,
        sample: Path,
        *,
        port: int = 0,
        max_page: int = 2,
        latency: float = 0.0,
        copies: int = 0,
    ):
        """``copies``: also serve the five dates again ``k`` × 70 days later, k = 1 … copies."""
        self.root = Path(cog_root)
        real = s2_cogs.build(self.root, sample)
        self.items: list[FakeItem] = real + [item.copied(k) for k in range(1, copies + 1) for item in real]
        self.max_page = max_page
        self.latency = latency
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        """Answered requests."""
        self.arrivals: list[tuple[str, str]] = []
        """(method, path) of every request as it arrives, answered or not (e.g. timed out)."""
        self.baseline = "05.00"
        self.drop_assets: set[str] = set()
        """Asset keys left out of every item (an item without the expected assets)."""
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeEarthSearch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- test controls ----------------------------------------------------------------------

    def fault(self, path: str, **kwargs) -> Fault:
        rule = Fault(path, **kwargs)
        with self._lock:
            self.faults.append(rule)
        return rule

    def clear(self) -> None:
        """Forget faults and counted requests."""
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.arrivals.clear()

    def counted(self, prefix: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def env(self) -> dict[str, str]:
        return {"LABELLER_STAC_URL": self.url}

    # --- behaviour ----------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for rule in self.faults:
                if rule.path in path and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def item_dicts(self) -> list[dict]:
        out = []
        for item in self.items:
            data = item_json(item, self.url, self.baseline)
            for key in self.drop_assets:
                data["assets"].pop(key, None)
            out.append(data)
        return out

    def search(self, body: dict) -> dict:
        """One page of results for a search body (with its ``next`` token, if any)."""
        matches = [d for d in self.item_dicts() if _matches(d, body)]
        matches.sort(key=lambda d: d["properties"]["datetime"], reverse=True)  # stac-server's default
        start = int(body.get("next") or 0)
        limit = min(int(body.get("limit") or 10), self.max_page)
        page = matches[start : start + limit]
        links = [{"rel": "root", "href": self.url}]
        if page:  # stac-server: a next link on every non-empty page
            links.append(
                {
                    "rel": "next",
                    "href": self.url + "/search",
                    "method": "POST",
                    "type": "application/geo+json",
                    "body": {**body, "next": str(start + limit)},
                }
            )
        return {
            "type": "FeatureCollection",
            "features": page,
            "links": links,
            "numberMatched": len(matches),
            "numberReturned": len(page),
            "context": {"limit": limit, "matched": len(matches), "returned": len(page)},
        }

    def landing(self) -> dict:
        return {
            "type": "Catalog",
            "id": "earth-search-aws",
            "stac_version": "1.0.0",
            "title": "Earth Search by Element 84 (local fake)",
            "description": "A STAC API of public datasets on AWS (fake for tests)",
            "conformsTo": CONFORMS_TO,
            "links": [
                {"rel": "self", "href": self.url, "type": "application/json"},
                {"rel": "root", "href": self.url, "type": "application/json"},
                {
                    "rel": "search",
                    "href": self.url + "/search",
                    "method": "GET",
                    "type": "application/geo+json",
                },
                {
                    "rel": "search",
                    "href": self.url + "/search",
                    "method": "POST",
                    "type": "application/geo+json",
                },
            ],
        }

    def object_bytes(self, path: str, rule: Fault | None) -> bytes | None:
        relative = re.sub(r"^/cogs/c\d+/", "", path)
        file = (self.root / relative).resolve()
        if not file.is_relative_to(self.root.resolve()) or not file.is_file() or file.suffix != ".tif":
            return None
        data = file.read_bytes()
        if rule is not None and rule.truncate is not None:
            data = data[: int(len(data) * rule.truncate)]
        if rule is not None and rule.corrupt is not None:
            cut = int(len(data) * rule.corrupt)
            data = data[:cut] + bytes(b ^ 0xFF for b in data[cut:])
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Clients hanging up mid-answer (GDAL aborting a transfer) are not news."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _matches(item: dict, body: dict) -> bool:
    props = item["properties"]
    if body.get("collections") and item["collection"] not in body["collections"]:
        return False
    if body.get("ids") and item["id"] not in body["ids"]:
        return False
    bbox = body.get("bbox")
    if bbox:
        a = item["bbox"]
        if bbox[0] > a[2] or bbox[2] < a[0] or bbox[1] > a[3] or bbox[3] < a[1]:
            return False
    when = body.get("datetime")
    if when:
        start, _, end = when.partition("/")
        t = _time(props["datetime"])
        if start not in ("", "..") and t < _time(start):
            return False
        if end not in ("", "..") and t > _time(end):
            return False
    for name, ops in (body.get("query") or {}).items():
        value = props.get(name)
        for op, limit in ops.items():
            ok = {
                "lt": value < limit,
                "lte": value <= limit,
                "gt": value > limit,
                "gte": value >= limit,
                "eq": value == limit,
            }[op]
            if not ok:
                return False
    return True


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _handler(fake: FakeEarthSearch):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(
            self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False
        ) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)
            fake._record(
                Request(self.command, self.path, self.headers.get("Range"), status, 0 if head else len(body))
            )

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

        def _prelude(self) -> Fault | None:
            with fake._lock:
                fake.arrivals.append((self.command, self.path))
            if fake.latency:
                time.sleep(fake.latency)
            rule = fake._take_fault(self.path)
            if rule is not None and rule.delay:
                time.sleep(rule.delay)
            return rule

        def _error(self, rule: Fault | None) -> bool:
            if rule is None or rule.status is None:
                return False
            if self.path.startswith("/cogs/"):  # S3's XML error document
                code, message = S3_ERRORS.get(
                    rule.status, ("InternalError", "We encountered an internal error.")
                )
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{code}</Code><Message>{message}</Message>"
                    "<RequestId>FAKE</RequestId><HostId>FAKE</HostId></Error>"
                ).encode()
                self._send(
                    rule.status, body, {"Content-Type": "application/xml"}, head=self.command == "HEAD"
                )
                return True
            self._json(rule.status, {"code": "Fault", "description": f"injected HTTP {rule.status}"})
            return True

        def do_GET(self) -> None:
            self._get(head=False)

        def do_HEAD(self) -> None:
            self._get(head=True)

        def _get(self, head: bool) -> None:
            rule = self._prelude()
            if self._error(rule):
                return
            path = self.path.split("?")[0]
            if path == "/_fake/counts":  # for a test or benchmark driving a fake in another process
                cogs = fake.counted("/cogs")
                counts = {
                    "cogs": len(cogs),
                    "bytes": sum(r.sent for r in cogs),
                    "search": len(fake.counted("/search")),
                }
                return self._json(200, counts)
            if path in ("/", ""):
                return self._json(200, fake.landing())
            if path.startswith("/collections/"):
                return self._json(200, {"type": "Collection", "id": COLLECTION, "links": []})
            if not path.startswith("/cogs/"):
                return self._json(404, {"code": "NotFound", "description": "no such path"})
            data = fake.object_bytes(path, rule)
            if data is None:  # S3 answers 403 to an unknown key of a bucket one may not list
                return self._send(
                    403, b"<Error><Code>AccessDenied</Code></Error>", {"Content-Type": "application/xml"}
                )
            base = {"Accept-Ranges": "bytes", "Content-Type": "image/tiff", "ETag": '"fake"'}
            wanted = self.headers.get("Range")
            if head or not wanted:
                return self._send(200, data, {**base, "Content-Length": str(len(data))}, head=head)
            if "," in wanted:  # several ranges: S3 sends the whole object
                return self._send(200, data, base)
            match = RANGE_RE.match(wanted.strip())
            if not match:
                return self._send(200, data, base)
            first = int(match.group(1))
            last = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
            if first >= len(data):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            part = data[first : last + 1]
            return self._send(206, part, {**base, "Content-Range": f"bytes {first}-{last}/{len(data)}"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            rule = self._prelude()
            if self._error(rule):
                return
            if self.path.split("?")[0] == "/_fake/reset":
                fake.clear()
                return self._json(200, {})
            if self.path.split("?")[0] != "/search":
                return self._json(404, {"code": "NotFound", "description": "no such path"})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._json(400, {"code": "BadRequest", "description": "body is not JSON"})
            return self._json(200, fake.search(body))

    return Handler


def _cog_root() -> Path:
    return Path(tempfile.gettempdir()) / "labeller-fake-earth-search-cogs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--max-page", type=int, default=2)
    parser.add_argument("--copies", type=int, default=0, help="the five dates again k × 70 days later")
    parser.add_argument("--cogs", type=Path, default=_cog_root())
    args = parser.parse_args(argv)
    sample = s2_cogs.find_sample()
    if sample is None:
        sys.exit(f"the real sample {s2_cogs.SAMPLE_NAME} was not found in shared/data beside this checkout")
    options = {"port": args.port, "max_page": args.max_page, "latency": args.latency, "copies": args.copies}
    with FakeEarthSearch(args.cogs, sample, **options) as fake:
        print(f"LABELLER_STAC_URL={fake.url}", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
