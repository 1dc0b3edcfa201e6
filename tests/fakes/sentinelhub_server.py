"""A local fake of Sentinel Hub / CDSE for sentinelhub-py: OAuth token, Catalog search, Process API.

Multi-threaded, loopback, random port (or ``--port``). It follows the contract of
``shared/docs/sentinel-hub-api.md`` §9 and serves:

- the **demo landscape**: the catalog lists ``DemoSource`` acquisitions of the searched box,
  every other date as two tiles a few seconds apart (so same-day merging is exercised);
  process answers ``DemoSource`` scenes for the requested UTM grid
  (``tests.fakes.grid.aoi_on_grid``) and the acquisition in the time range (SCL made from the
  demo's ground truth, ``DemoSource.ground_truth``);
- the **real scene** (``shared/data/s2_l1c_slovenia_2015.npz``, when present) for Level-1C
  requests over it: its 5 dates in the catalog, and each requested 10 m pixel filled from the
  real pixel holding its centre (``dataMask`` 0 outside the real extent).

Endpoints: ``POST /auth/realms/{main,CDSE}/protocol/openid-connect/token``,
``POST /api/v1/catalog/1.0.0/search``, ``POST /api/v1/process``; for a test driving a fake in
another process: ``GET /_fake/counts``, ``POST /_fake/reset``, ``POST /_fake/faults``.

A process request is answered from what its JSON declares: the collection
(``input.data[0].type``), the grid (``input.bounds``, ``output.width/height``), the day
(``dataFilter.timeRange``) and one TIFF per ``output.responses[].identifier``, each filled by
its name (``output_layers``: a band or meta band alone, any other name every band of the
collection in order). The evalscript must be there but is not read: the fake does not run or
parse JavaScript, so it cannot check that the script declares those outputs (the app's tests
check that on the script sentinelhub-py generates).

Faults are queued per kind (``token``, ``catalog``, ``process``); each request of that kind
takes the next one: an error status with a body, ``Retry-After``, a delay (beyond the client's
timeout, or just latency), or a truncated answer.

Standalone::

    python -m tests.fakes.sentinelhub_server --port 8765 --client-id X --client-secret Y \\
        [--process-delay 2] [--max-page 100]

then point the app at it with ``SH_BASE_URL``, ``SH_TOKEN_URL``, ``SH_CLIENT_ID``,
``SH_CLIENT_SECRET`` and ``OAUTHLIB_INSECURE_TRANSPORT=1`` (printed on start).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import secrets
import signal
import sys
import tarfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import tifffile

from labeller.aoi import AreaOfInterest
from labeller.bands import ALL_BAND_NAMES, COLLECTIONS, L1C, L2A
from labeller.errors import LabellerError
from labeller.sources.demo import DemoSource, LandCover
from tests.fakes.grid import aoi_on_grid

REAL_SCENE = Path(__file__).resolve().parents[3] / "shared" / "data" / "s2_l1c_slovenia_2015.npz"
TOKEN_PATHS = {
    "/auth/realms/main/protocol/openid-connect/token": "sentinelhub",
    "/auth/realms/CDSE/protocol/openid-connect/token": "cdse",
}
CATALOG_PATH = "/api/v1/catalog/1.0.0/search"
PROCESS_PATH = "/api/v1/process"
KINDS = ("token", "catalog", "process")
META_BANDS = ("dataMask", "sunZenithAngles", "sunAzimuthAngles", "SCL")
"""Meta bands the fake serves, each as an output of its own (``SCL``: Level-2A only)."""
UINT8_LAYERS = ("dataMask", "SCL")
"""Layers answered as UINT8; every other layer (bands as reflectance, angles) as FLOAT32."""
FILTER_RE = re.compile(r"^\s*eo:cloud_cover\s*(<=|<|>=|>|=)\s*(-?[\d.]+)\s*$")
COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "=": np.equal,
}
REAL_CLOUD = (1.0, 75.0, 97.0, 2.0, 3.0)
"""Cloud cover (%) of the real dates: mean s2cloudless probability from shared/data/README.md."""
REAL_SUN = (
    (27.3994498217591, 144.47631498719335),
    (30.970171351205558, 147.33482322562332),
    (35.56737489210444, 155.24492126443707),
    (38.79211723965686, 157.27619928447743),
    (42.48560692434444, 157.9690375141784),
)
"""Sun zenith and azimuth (degrees) of the real dates at the sample's centre (NOAA solar
position equations; the sample itself carries no angles)."""
SCL_OF = {
    LandCover.WATER: 6,
    LandCover.FOREST: 4,
    LandCover.GRASSLAND: 4,
    LandCover.BARE_SOIL: 5,
    LandCover.BUILT_UP: 5,
    LandCover.SNOW_ICE: 11,
    LandCover.CLOUD: 9,
    LandCover.CLOUD_SHADOW: 3,
}
"""Demo ground truth → Sen2Cor scene classes (0 = no data)."""
SCL_LUT = np.array([SCL_OF[LandCover(code)] for code in range(len(LandCover))], dtype=np.uint8)
DEFAULT_BOX = (14.5514, 45.8659, 14.5642, 45.8750)
"""Searched when a catalog request has no bbox (e.g. a connection test)."""


class FakeError(Exception):
    """Answered as an HTTP error with a Sentinel Hub-shaped body."""

    def __init__(self, status: int, message: str, code: str = "COMMON_BAD_PAYLOAD") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class Fault:
    """What the next request of a kind gets instead of (or before) a normal answer."""

    status: int | None = None
    """HTTP status to answer with; None answers normally (after ``delay``)."""
    body: Any = None
    """JSON-able object or text for an error answer; None: a Sentinel Hub-shaped error."""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (beyond the client timeout: a timeout)."""
    truncate: bool = False
    """Answer normally, but with only the first half of the body."""
    drop: bool = False
    """Close the connection without any answer, as a dead or restarting server does."""
    day: str | None = None
    """Only for process requests of this UTC day (``YYYY-MM-DD``, the start of the request's
    time range): a fault for one image while the others are answered normally."""

    @classmethod
    def error(cls, status: int, message: str = "Invalid request", **kw: Any) -> Fault:
        reason = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}
        code = {400: "COMMON_BAD_PAYLOAD", 401: "COMMON_UNAUTHORIZED", 403: "COMMON_INSUFFICIENT_PERMISSIONS"}
        body = {
            "error": {
                "status": status,
                "reason": reason.get(status, "Error"),
                "message": message,
                "code": code.get(status, "COMMON_EXCEPTION"),
            }
        }
        return cls(status=status, body=body, **kw)

    @classmethod
    def rate_limited(cls, retry_after_ms: int = 100, **kw: Any) -> Fault:
        return cls(
            status=429,
            body={
                "error": {
                    "status": 429,
                    "reason": "Too Many Requests",
                    "message": "You have exceeded your rate limit",
                    "code": "RATE_LIMIT_EXCEEDED",
                }
            },
            headers={"Retry-After": str(int(retry_after_ms))},
            **kw,
        )

    @classmethod
    def dead(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(delay=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        return cls(truncate=True)


# --- the real scene -----------------------------------------------------------------------


class RealScene:
    """The real Level-1C sample and the mapping of a requested 10 m grid onto its pixels."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            self.bands = data["bands"]
            self.band_names = tuple(str(b) for b in data["band_names"])
            self.times = [datetime.fromisoformat(str(t)).replace(tzinfo=UTC) for t in data["timestamps"]]
            self.epsg = int(data["crs_epsg"])
            self.bbox_utm = tuple(float(v) for v in data["bbox_utm"])
            self.bbox_wgs84 = tuple(float(v) for v in data["bbox_wgs84"])
        _, self.rows, self.cols, _ = self.bands.shape

    def overlaps(self, bbox: tuple[float, ...], epsg: int = 4326) -> bool:
        own = self.bbox_wgs84 if epsg == 4326 else self.bbox_utm if epsg == self.epsg else None
        return (
            own is not None
            and bbox[0] < own[2]
            and own[0] < bbox[2]
            and bbox[1] < own[3]
            and own[1] < bbox[3]
        )

    def date_index(self, start: datetime, end: datetime) -> int | None:
        return next((i for i, t in enumerate(self.times) if start <= t <= end), None)

    def pixels_of(self, aoi: AreaOfInterest) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, col, inside) of the real pixel holding each grid pixel centre, (rows, cols) each."""
        rows, cols = np.mgrid[0 : aoi.rows, 0 : aoi.cols]
        x, y = aoi.pixel_to_utm(rows, cols)
        minx, miny, maxx, maxy = self.bbox_utm
        real_col = np.floor((x - minx) / ((maxx - minx) / self.cols)).astype(int)
        real_row = np.floor((maxy - y) / ((maxy - miny) / self.rows)).astype(int)
        inside = (real_row >= 0) & (real_row < self.rows) & (real_col >= 0) & (real_col < self.cols)
        return np.clip(real_row, 0, self.rows - 1), np.clip(real_col, 0, self.cols - 1), inside

    def values(self, aoi: AreaOfInterest, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols, 13) float32 values and the (rows, cols) inside mask on the grid."""
        real_row, real_col, inside = self.pixels_of(aoi)
        bands = self.bands[index][real_row, real_col, :].copy()
        bands[~inside] = 0.0
        return bands, inside

    def feature_id(self, index: int) -> str:
        t = self.times[index]
        return f"S2A_MSIL1C_{t:%Y%m%dT%H%M%S}_N0204_R022_T33TVM_{t:%Y%m%dT%H%M%S}"

    def sun(self, index: int) -> tuple[float, float]:
        return REAL_SUN[index]


def load_real_scene(path: Path | None = REAL_SCENE) -> RealScene | None:
    return RealScene(path) if path is not None and Path(path).is_file() else None


# --- the fake service -----------------------------------------------------------------------


class FakeSentinelHub:
    """The fake service. ``start()`` it (or use it as a context manager), then point clients
    at ``url`` and ``token_url`` / ``cdse_token_url``."""

    def __init__(
        self,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        process_delay: float = 0.0,
        max_page: int = 100,
        real_scene: Path | None = REAL_SCENE,
        token_expires_in: int = 3600,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.process_delay = process_delay
        self.max_page = max_page
        self.token_expires_in = token_expires_in
        self.real = load_real_scene(real_scene)
        self.demo = DemoSource()
        self.counts: Counter[str] = Counter()
        self.path_counts: Counter[str] = Counter()
        self.bodies: dict[str, list[Any]] = {kind: [] for kind in KINDS}
        self._faults: dict[str, list[Fault]] = {kind: [] for kind in KINDS}
        self._tokens: set[str] = set()
        self._refuse_tokens = False
        self._process_days: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_url(self) -> str:
        return self.url + "/auth/realms/main/protocol/openid-connect/token"

    @property
    def cdse_token_url(self) -> str:
        return self.url + "/auth/realms/CDSE/protocol/openid-connect/token"

    def env(self, service: str = "sentinelhub") -> dict[str, str]:
        """Environment variables pointing the app at this fake as ``service``."""
        prefix = "CDSE" if service == "cdse" else "SH"
        return {
            f"{prefix}_BASE_URL": self.url,
            f"{prefix}_TOKEN_URL": self.cdse_token_url if service == "cdse" else self.token_url,
            f"{prefix}_CLIENT_ID": self.client_id,
            f"{prefix}_CLIENT_SECRET": self.client_secret,
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
        }

    def start(self) -> FakeSentinelHub:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-sentinelhub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in a delay
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSentinelHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls ------------------------------------------------------------------

    def inject(self, kind: str, *faults: Fault) -> None:
        """Queue faults for the next requests of ``kind`` (token, catalog or process)."""
        with self._lock:
            self._faults[kind].extend(faults)

    def revoke_tokens(self, forever: bool = False) -> None:
        """Forget every token issued so far (as a restarted service does); ``forever``: also
        refuse every token issued from now on (e.g. a client deleted in the dashboard)."""
        with self._lock:
            self._tokens.clear()
            self._refuse_tokens = forever

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.path_counts.clear()
            self._process_days.clear()
            for kind in KINDS:
                self.bodies[kind].clear()
                self._faults[kind].clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"by_kind": dict(self.counts), "by_path": dict(self.path_counts)}

    def _next_fault(self, kind: str, day: str | None = None) -> Fault | None:
        """The first queued fault of ``kind`` for this request (``day``: a process request's)."""
        with self._lock:
            queue = self._faults[kind]
            for i, fault in enumerate(queue):
                if fault.day is None or fault.day == day:
                    return queue.pop(i)
            return None

    def process_counts(self) -> Counter[str]:
        """Process requests per UTC day asked for (each fault and retry counted)."""
        with self._lock:
            return Counter(self._process_days)

    # --- token ----------------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        good = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )
        if not good:
            raise _OAuthError("invalid_client", "Invalid client or Invalid client credentials")
        token = _jwt_like(self.client_id, self.token_expires_in)
        with self._lock:
            self._tokens.add(token)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_expires_in,
            "refresh_expires_in": 0,
            "not-before-policy": 0,
            "scope": "email profile",
        }

    def authorised(self, header: str | None) -> bool:
        token = (header or "").removeprefix("Bearer ").strip()
        with self._lock:
            return token in self._tokens and not self._refuse_tokens

    # --- catalog ----------------------------------------------------------------------------

    def features(
        self, collection: str, bbox: tuple[float, ...] | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """What a search lists before filtering and paging, oldest first."""
        bbox = tuple(bbox) if bbox else DEFAULT_BOX
        if self.real is not None and collection == L1C.id and self.real.overlaps(bbox):
            return [self._real_feature(i) for i, t in enumerate(self.real.times) if start <= t <= end]
        found = []
        for acquisition in self._demo_acquisitions(_small_aoi(bbox), start, end):
            found.extend(_demo_features(acquisition, collection, bbox))
        return sorted(found, key=lambda f: f["properties"]["datetime"])

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        collections = body.get("collections") or []
        if len(collections) != 1 or collections[0] not in (L1C.id, L2A.id):
            raise FakeError(400, f"Unknown or missing collection {collections!r}")
        start, end = _time_range(body.get("datetime"))
        features = self.features(collections[0], body.get("bbox"), start, end)
        features = [f for f in features if _passes(f, body.get("filter"))]
        limit = max(1, min(int(body.get("limit") or 10), self.max_page))
        offset = int(body.get("next") or 0)
        page = features[offset : offset + limit]
        context: dict[str, Any] = {"limit": limit, "returned": len(page)}
        if offset + limit < len(features):
            context["next"] = offset + limit
        return {"type": "FeatureCollection", "features": page, "links": [], "context": context}

    def _real_feature(self, index: int) -> dict[str, Any]:
        return _feature(
            self.real.feature_id(index),
            self.real.times[index],
            REAL_CLOUD[index],
            self.real.bbox_wgs84,
            self.real.epsg,
        )

    def _demo_acquisitions(self, aoi: AreaOfInterest, start: datetime, end: datetime):
        try:
            return self.demo.acquisitions(aoi, start.date(), end.date())
        except LabellerError:
            return []

    # --- process ----------------------------------------------------------------------------

    def process(self, body: dict[str, Any]) -> tuple[bytes, str]:
        """The answer body and its content type: one TIFF per output the request declares
        (``output.responses``), in a tar when there are several. The evalscript is not read:
        what an output holds follows from its identifier (``output_layers``)."""
        request = _ProcessRequest.parse(body)
        layers = self._layers(request)
        arrays = {rid: output_layers(rid, request.collection, layers) for rid in request.responses}
        if len(request.responses) == 1:
            return _tiff(arrays[request.responses[0]]), "image/tiff"
        return _tar({f"{rid}.tif": _tiff(arrays[rid]) for rid in request.responses}), "application/x-tar"

    def _layers(self, request: _ProcessRequest) -> dict[str, np.ndarray]:
        """Every band the collection offers, as (rows, cols) arrays on the requested grid."""
        aoi, (start, end) = request.aoi, request.time_range
        rows, cols = aoi.shape
        names = list(L1C.band_names if request.collection == L1C.id else L2A.band_names)
        index = self.real.date_index(start, end) if self._is_real(request) else None
        if index is not None:
            bands, valid = self.real.values(aoi, index)
            layers = {name: bands[..., self.real.band_names.index(name)] for name in names}
            zen, az = self.real.sun(index)
            scl = np.where(valid, 4, 0)  # (the real scene is Level-1C: never asked for)
        else:
            acquisitions = self._demo_acquisitions(aoi, start, end)
            if not acquisitions:
                return _empty_layers(names, rows, cols, request.collection)
            best = min(acquisitions, key=lambda a: a.cloud_cover)  # leastCC
            scene = self.demo.scene(aoi, best)
            valid, zen, az = scene.valid, scene.sun_zenith, scene.sun_azimuth
            layers = {name: scene.band(name) for name in names}
            truth = self.demo.ground_truth(aoi, best)
            scl = np.where(valid, SCL_LUT[truth], 0)
        layers.update(
            dataMask=valid.astype(np.uint8),
            sunZenithAngles=np.full((rows, cols), zen, np.float32),
            sunAzimuthAngles=np.full((rows, cols), az, np.float32),
        )
        if request.collection == L2A.id:
            layers["SCL"] = scl.astype(np.uint8)
        return layers

    def _is_real(self, request: _ProcessRequest) -> bool:
        return (
            self.real is not None
            and request.collection == L1C.id
            and self.real.overlaps(request.aoi.utm_bounds, request.aoi.epsg)
        )


@dataclass
class _ProcessRequest:
    aoi: AreaOfInterest
    collection: str
    time_range: tuple[datetime, datetime]
    responses: list[str]
    """The identifiers of the outputs asked for (``output.responses``), in order."""

    @classmethod
    def parse(cls, body: dict[str, Any]) -> _ProcessRequest:
        try:
            bounds = body["input"]["bounds"]
            crs = bounds["properties"]["crs"]
            bbox = tuple(float(v) for v in bounds["bbox"])
            data = body["input"]["data"][0]
            time_range = data["dataFilter"]["timeRange"]
            output = body["output"]
            if not body["evalscript"]:
                raise ValueError("empty evalscript")
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise FakeError(400, f"Malformed process request: {exc!r}") from exc
        epsg = int(crs.rsplit("/", 1)[-1])
        width, height = _size(output, bbox)
        if round((bbox[2] - bbox[0]) / 10) != width or round((bbox[3] - bbox[1]) / 10) != height:
            raise FakeError(400, "This fake serves 10 m UTM grids only")
        responses = []
        for response in output.get("responses") or [
            {"identifier": "default", "format": {"type": "image/tiff"}}
        ]:
            if response.get("format", {}).get("type") != "image/tiff":
                raise FakeError(400, f"Unsupported output format {response.get('format')}")
            responses.append(response["identifier"])
        if data.get("type") not in COLLECTIONS:
            raise FakeError(400, f"Unknown collection {data.get('type')!r}")
        return cls(
            aoi=aoi_on_grid(epsg, bbox),
            collection=data.get("type"),
            time_range=(_parse_time(time_range["from"]), _parse_time(time_range["to"])),
            responses=responses,
        )


def output_layers(identifier: str, collection: str, layers: dict[str, np.ndarray]) -> np.ndarray:
    """What the fake answers for an output, by its identifier (the evalscript is not read):

    - the name of a band or meta band of the collection (``B04``, ``dataMask``,
      ``sunZenithAngles``, ``sunAzimuthAngles``, ``SCL`` for Level-2A): that layer alone,
      (rows, cols);
    - the name of a band or meta band the collection lacks (``B10`` for Level-2A, ``SCL`` for
      Level-1C): HTTP 400, as Sentinel Hub refuses an unknown band;
    - any other name (``bands``, ``default``): every band of the collection in
      ``Collection.band_names`` order (sentinelhub-py's ``DataCollection.bands`` order, which
      ``generate_evalscript(..., merged_bands_output=name)`` asks for), (rows, cols, n).

    ``UINT8_LAYERS`` are UINT8, everything else FLOAT32 (reflectance, degrees).
    """
    band_names = COLLECTIONS[collection].band_names
    if identifier in layers:
        dtype = np.uint8 if identifier in UINT8_LAYERS else np.float32
        return layers[identifier].astype(dtype)
    if identifier in ALL_BAND_NAMES or identifier in META_BANDS:
        raise FakeError(400, f"Unknown band {identifier} for {collection}", "RENDERER_EXCEPTION")
    return np.stack([layers[name] for name in band_names], axis=-1).astype(np.float32)


# --- helpers ----------------------------------------------------------------------------------


class _OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


def _jwt_like(client_id: str, expires_in: int) -> str:
    """A token whose middle part decodes as sentinelhub-py's ``SentinelHubSession.info`` expects."""
    claims = {"azp": client_id, "exp": int(time.time()) + expires_in, "jti": secrets.token_hex(8)}
    payload = json.dumps(claims)
    while True:
        encoded = base64.b64encode(payload.encode()).decode()
        if len(encoded) % 4 == 0 and not any(c in encoded for c in "+/="):
            break
        payload += " "
    return f"eyJhbGciOiJub25lIn0.{encoded}.fake"


def _day_of(raw: bytes) -> str | None:
    """The UTC day a process request asks for (its time range's start), or None."""
    try:
        return json.loads(raw)["input"]["data"][0]["dataFilter"]["timeRange"]["from"][:10]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _time_range(value: str | None) -> tuple[datetime, datetime]:
    start, _, end = (value or "../..").partition("/")
    low = datetime(2015, 6, 27, tzinfo=UTC) if start in ("", "..") else _parse_time(start)
    high = datetime(2015, 9, 30, tzinfo=UTC) if end in ("", "..") else _parse_time(end)
    return low, high


def _size(output: dict[str, Any], bbox: tuple[float, ...]) -> tuple[int, int]:
    if "width" in output and "height" in output:
        return int(output["width"]), int(output["height"])
    if "resx" in output and "resy" in output:
        return round((bbox[2] - bbox[0]) / float(output["resx"])), round(
            (bbox[3] - bbox[1]) / float(output["resy"])
        )
    raise FakeError(400, "output needs width/height or resx/resy")


def _passes(feature: dict[str, Any], cql: str | None) -> bool:
    if not cql:
        return True
    cover = feature["properties"]["eo:cloud_cover"]
    for clause in re.split(r"\s+AND\s+", cql, flags=re.IGNORECASE):
        match = FILTER_RE.match(clause)
        if match is None:
            raise FakeError(400, f"Unsupported filter {clause!r}")
        if not COMPARE[match[1]](cover, float(match[2])):
            return False
    return True


def _small_aoi(bbox: tuple[float, ...]) -> AreaOfInterest:
    """The searched box as an AOI, or a small one at its centre when it is too large."""
    try:
        return AreaOfInterest(*bbox)
    except LabellerError:
        lon, lat = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
        return AreaOfInterest(lon - 0.004, lat - 0.003, lon + 0.004, lat + 0.003)


def _feature(fid: str, when: datetime, cloud: float, bbox: tuple[float, ...], epsg: int) -> dict[str, Any]:
    w, s, e, n = bbox
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": ["eo", "projection"],
        "id": fid,
        "bbox": list(bbox),
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "properties": {
            "datetime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "platform": "sentinel-2a",
            "instruments": ["msi"],
            "constellation": "sentinel-2",
            "gsd": 10,
            "eo:cloud_cover": cloud,
            "proj:epsg": epsg,
        },
        "assets": {},
        "links": [],
    }


def _demo_features(acquisition, collection: str, bbox: tuple[float, ...]) -> list[dict[str, Any]]:
    """One feature per tile: every other date two tiles of one datatake, 3 s apart."""
    level = "MSIL1C" if collection == L1C.id else "MSIL2A"
    baseline = (acquisition.processing_baseline or "05.10").replace(".", "")
    tile = (acquisition.tile_id or "T33TVM").removeprefix("T")
    epsg = AreaOfInterest(*bbox).epsg if _fits(bbox) else 32633
    t = acquisition.time

    def fid(tile_name: str, when: datetime) -> str:
        return f"S2A_{level}_{when:%Y%m%dT%H%M%S}_N{baseline}_R022_T{tile_name}_{when:%Y%m%dT%H%M%S}"

    features = [_feature(fid(tile, t), t, acquisition.cloud_cover, bbox, epsg)]
    if (t.date() - date(2015, 6, 27)).days // 5 % 2 == 0:
        second = tile[:-1] + chr((ord(tile[-1]) - ord("A") + 1) % 26 + ord("A"))
        later = t + timedelta(seconds=3)
        features.append(
            _feature(fid(second, later), later, round(acquisition.cloud_cover / 2, 2), bbox, epsg)
        )
    return features


def _fits(bbox: tuple[float, ...]) -> bool:
    try:
        AreaOfInterest(*bbox)
    except LabellerError:
        return False
    return True


def _empty_layers(names: list[str], rows: int, cols: int, collection: str) -> dict[str, np.ndarray]:
    zeros = np.zeros((rows, cols), np.float32)
    layers = {name: zeros for name in names}
    layers.update(dataMask=zeros.astype(np.uint8), sunZenithAngles=zeros, sunAzimuthAngles=zeros)
    if collection == L2A.id:
        layers["SCL"] = zeros.astype(np.uint8)
    return layers


def _tiff(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer, array, photometric="minisblack", planarconfig="contig" if array.ndim == 3 else None
    )
    return buffer.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


# --- HTTP -------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSentinelHub/1.0"

    @property
    def fake(self) -> FakeSentinelHub:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: tests read counts, not logs

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._read_body()
        if urlparse(self.path).path == "/_fake/counts":
            return self._send_json(200, self.fake.snapshot())
        return self._send_json(404, {"error": {"status": 404, "reason": "Not Found", "message": self.path}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self._read_body()
        path = urlparse(self.path).path
        if path.startswith("/_fake/"):
            return self._control(path, raw)
        kind = (
            "token" if path in TOKEN_PATHS else {CATALOG_PATH: "catalog", PROCESS_PATH: "process"}.get(path)
        )
        if kind is None:
            return self._send_json(404, {"error": {"status": 404, "reason": "Not Found", "message": path}})
        day = _day_of(raw) if kind == "process" else None
        with self.fake._lock:
            self.fake.counts[kind] += 1
            self.fake.path_counts[path] += 1
            if day is not None:
                self.fake._process_days.append(day)
        fault = self.fake._next_fault(kind, day)
        delay = (fault.delay if fault else 0.0) + (self.fake.process_delay if kind == "process" else 0.0)
        if delay and self.fake._stopping.wait(delay):
            return
        if fault is not None and fault.drop:
            self.close_connection = True
            return
        if fault is not None and fault.status is not None:
            return self._send_fault(fault)
        status, content, content_type = self._answer(kind, raw)
        if fault is not None and fault.truncate:
            content = content[: len(content) // 2]
        self._send(status, content, content_type)

    def _answer(self, kind: str, raw: bytes) -> tuple[int, bytes, str]:
        try:
            if kind == "token":
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self.fake.bodies["token"].append({k: v for k, v in form.items() if k != "client_secret"})
                return 200, json.dumps(self.fake.token(form)).encode(), "application/json"
            if not self.fake.authorised(self.headers.get("Authorization")):
                raise FakeError(401, "Invalid or missing access token", "COMMON_UNAUTHORIZED")
            body = json.loads(raw or b"{}")
            self.fake.bodies[kind].append(body)
            if kind == "catalog":
                return 200, json.dumps(self.fake.search(body)).encode(), "application/json"
            content, content_type = self.fake.process(body)
            return 200, content, content_type
        except _OAuthError as exc:
            body = {"error": exc.error, "error_description": exc.description}
            return 401, json.dumps(body).encode(), "application/json"
        except FakeError as exc:
            body = {
                "error": {"status": exc.status, "reason": "Error", "message": exc.message, "code": exc.code}
            }
            return exc.status, json.dumps(body).encode(), "application/json"
        except (ValueError, KeyError, TypeError) as exc:
            body = {"error": {"status": 400, "reason": "Bad Request", "message": repr(exc)}}
            return 400, json.dumps(body).encode(), "application/json"

    def _control(self, path: str, raw: bytes) -> None:
        if path == "/_fake/reset":
            self.fake.reset()
        elif path == "/_fake/faults":
            spec = json.loads(raw or b"{}")
            self.fake.inject(spec["kind"], *(Fault(**f) for f in spec.get("faults", [])))
        else:
            return self._send_json(404, {"error": path})
        return self._send_json(200, self.fake.snapshot())

    def _send_fault(self, fault: Fault) -> None:
        body = fault.body
        if body is None:
            body = Fault.error(fault.status).body
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self._send(fault.status, content, "application/json", fault.headers)

    def _send_json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, content: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


# --- standalone -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="fake-client-id")
    parser.add_argument("--client-secret", default="fake-client-secret")
    parser.add_argument("--process-delay", type=float, default=0.0, help="seconds before each process answer")
    parser.add_argument("--max-page", type=int, default=100, help="most catalog features per page")
    parser.add_argument("--real-scene", type=Path, default=REAL_SCENE)
    args = parser.parse_args(argv)
    fake = FakeSentinelHub(
        args.client_id,
        args.client_secret,
        host=args.host,
        port=args.port,
        process_delay=args.process_delay,
        max_page=args.max_page,
        real_scene=args.real_scene,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    real = "real scene served" if fake.real is not None else f"no real scene ({args.real_scene} missing)"
    print(f"fake Sentinel Hub listening on {fake.url} ({real})", flush=True)
    for name, value in fake.env().items():
        if not name.endswith("SECRET"):
            print(f"  {name}={value}", flush=True)
    stop.wait()
    fake.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()


__all__ = ["FakeSentinelHub", "Fault", "RealScene", "load_real_scene", "output_layers"]
