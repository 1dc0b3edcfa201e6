"""A bounded disk cache of scenes, so a revisited image costs no request.

One ``.npz`` file per scene, named by a hash of everything that changes the answer:
the source and its endpoint, the collection, the grid (CRS, bounds, shape), the
acquisition and the request version. Oldest-used files go first when the cache
outgrows its size limit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np

from labeller.aoi import AreaOfInterest
from labeller.scenes import Acquisition, Scene

log = logging.getLogger(__name__)
DEFAULT_LIMIT_MB = 500


def scene_key(source_id: str, aoi: AreaOfInterest, acquisition: Acquisition) -> str:
    """A hash of everything that changes a scene. ``source_id`` names source, endpoint,
    collection and request version (see ``CachedSource``)."""
    parts = [source_id, aoi.epsg, aoi.utm_bounds, aoi.shape, acquisition.id, acquisition.time.isoformat()]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


class SceneCache:
    """Scenes on disk under ``folder``, at most ``limit_mb`` megabytes in all."""

    def __init__(self, folder: Path, limit_mb: float = DEFAULT_LIMIT_MB) -> None:
        self.folder = Path(folder)
        self.limit_bytes = int(limit_mb * 1024 * 1024)
        self._lock = threading.Lock()

    def get(self, key: str) -> Scene | None:
        path = self.folder / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                scene = _scene_from(data)
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)  # mark as recently used
            return scene
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a damaged entry is dropped and fetched again
            log.warning("dropping unreadable cache entry %s", path.name)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, scene: Scene) -> None:
        """Keep a scene. Best effort: a full or read-only disk only costs a later re-fetch."""
        path = self.folder / f"{key}.npz"
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as handle:
                np.savez(handle, **_arrays_of(scene))
            os.replace(partial, path)  # atomic: readers never see half a file
            self._evict()
        except OSError as error:
            log.warning("could not keep scene %s in the cache: %s", key, error)
            partial.unlink(missing_ok=True)

    def size_bytes(self) -> int:
        return sum(size for _, _, size in self._entries())

    def _entries(self) -> list[tuple[float, Path, int]]:
        """(last used, path, bytes) of each entry; entries another process removes meanwhile
        are left out."""
        entries = []
        for path in self.folder.glob("*.npz"):
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            entries.append((info.st_mtime, path, info.st_size))
        return sorted(entries)

    def _evict(self) -> None:
        with self._lock:
            entries = self._entries()
            total = sum(size for _, _, size in entries)
            for _, path, size in entries:
                if total <= self.limit_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size


def _arrays_of(scene: Scene) -> dict[str, np.ndarray]:
    meta = {
        "acquisition": {**asdict(scene.acquisition), "time": scene.acquisition.time.isoformat()},
        "band_names": list(scene.band_names),
        "sun_zenith": scene.sun_zenith,
        "sun_azimuth": scene.sun_azimuth,
        "harmonised": scene.harmonised,
        "extra": sorted(scene.extra),
    }
    arrays = {"bands": scene.bands, "valid": scene.valid, "meta": np.array(json.dumps(meta))}
    arrays.update({f"extra_{name}": np.asarray(value) for name, value in scene.extra.items()})
    return arrays


def _scene_from(data) -> Scene:
    meta = json.loads(str(data["meta"]))
    acq = meta["acquisition"]
    acquisition = Acquisition(**{**acq, "time": datetime.fromisoformat(acq["time"])})
    return Scene(
        acquisition=acquisition,
        band_names=tuple(meta["band_names"]),
        bands=data["bands"],
        valid=data["valid"],
        sun_zenith=meta["sun_zenith"],
        sun_azimuth=meta["sun_azimuth"],
        harmonised=meta["harmonised"],
        extra={name: data[f"extra_{name}"] for name in meta["extra"]},
    )
