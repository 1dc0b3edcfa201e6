"""Disk cache and background prefetch of scenes."""

import threading
from datetime import date

import numpy as np
import pytest

from labeller.aoi import AreaOfInterest
from labeller.prefetch import SceneLoader
from labeller.scene_cache import SceneCache, scene_key
from labeller.sources.base import LocalSource
from labeller.sources.demo import DemoSource

AOI = AreaOfInterest(14.5514, 45.8659, 14.5642, 45.8750)


class CountingSource(LocalSource):
    """The real demo source, counting scene requests and optionally holding them back."""

    key, title = "counting", "Counting demo"

    def __init__(self, cache_id="counting-v1"):
        self.inner = DemoSource()
        self.collection = self.inner.collection
        self.cache_id = cache_id
        self.calls: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def acquisitions(self, *args, **kwargs):
        return self.inner.acquisitions(*args, **kwargs)

    def scene(self, aoi, acquisition):
        with self.lock:
            self.calls.append(acquisition.id)
        self.gate.wait(10)
        return self.inner.scene(aoi, acquisition)


@pytest.fixture
def acquisitions():
    return DemoSource().acquisitions(AOI, date(2024, 3, 1), date(2024, 4, 30))


def test_cache_round_trip_is_exact(tmp_path, acquisitions):
    scene = DemoSource().scene(AOI, acquisitions[0])
    cache = SceneCache(tmp_path)
    key = scene_key("demo-v1", AOI, acquisitions[0])
    assert cache.get(key) is None
    cache.put(key, scene)
    back = cache.get(key)
    assert np.array_equal(back.bands, scene.bands) and back.bands.dtype == np.float32
    assert np.array_equal(back.valid, scene.valid)
    assert back.acquisition == scene.acquisition and back.band_names == scene.band_names
    assert (back.sun_zenith, back.sun_azimuth) == (scene.sun_zenith, scene.sun_azimuth)


def test_key_changes_with_everything_that_changes_the_answer(acquisitions):
    base = scene_key("sh:l2a:v1", AOI, acquisitions[0])
    other_aoi = AreaOfInterest(14.5514, 45.8659, 14.5650, 45.8750)
    assert scene_key("sh:l1c:v1", AOI, acquisitions[0]) != base
    assert scene_key("sh:l2a:v1", other_aoi, acquisitions[0]) != base
    assert scene_key("sh:l2a:v1", AOI, acquisitions[1]) != base
    assert scene_key("sh:l2a:v1", AOI, acquisitions[0]) == base


def test_cache_stays_within_its_size_limit_dropping_the_oldest(tmp_path, acquisitions):
    source = DemoSource()
    one = source.scene(AOI, acquisitions[0]).bands.nbytes
    cache = SceneCache(tmp_path, limit_mb=2.5 * one / 2**20)
    keys = [scene_key("demo", AOI, a) for a in acquisitions[:4]]
    for key, acquisition in zip(keys, acquisitions, strict=False):
        cache.put(key, source.scene(AOI, acquisition))
    assert cache.size_bytes() <= cache.limit_bytes
    assert cache.get(keys[-1]) is not None and cache.get(keys[0]) is None


def test_damaged_entry_is_dropped_not_fatal(tmp_path, acquisitions):
    cache = SceneCache(tmp_path)
    key = scene_key("demo", AOI, acquisitions[0])
    (tmp_path / f"{key}.npz").write_bytes(b"not a zip")
    assert cache.get(key) is None
    assert not (tmp_path / f"{key}.npz").exists()


def test_revisit_costs_no_request_even_in_a_new_session(tmp_path, acquisitions):
    source = CountingSource()
    cache = SceneCache(tmp_path)
    loader = SceneLoader(source, AOI, cache)
    first = loader.get(acquisitions[0])
    loader.get(acquisitions[0])
    assert source.calls == [acquisitions[0].id]
    fresh = SceneLoader(source, AOI, cache)  # a new browser session, same machine
    assert np.array_equal(fresh.get(acquisitions[0]).bands, first.bands)
    assert source.calls == [acquisitions[0].id]


def test_prefetched_scene_is_fetched_once_even_if_asked_for_while_under_way(tmp_path, acquisitions):
    source = CountingSource(cache_id=None)
    loader = SceneLoader(source, AOI)
    source.gate.clear()  # hold the download
    loader.prefetch(acquisitions[1:3])
    assert not loader.is_ready(acquisitions[1])
    waiter = threading.Thread(target=loader.get, args=(acquisitions[1],))
    waiter.start()
    source.gate.set()
    waiter.join(10)
    loader.get(acquisitions[2])
    assert sorted(source.calls) == sorted(a.id for a in acquisitions[1:3])
    assert loader.is_ready(acquisitions[1]) and loader.is_ready(acquisitions[2])


def test_concurrent_puts_and_eviction_never_raise(tmp_path, acquisitions):
    scene = DemoSource().scene(AOI, acquisitions[0])
    caches = [SceneCache(tmp_path, limit_mb=3 * scene.bands.nbytes / 2**20) for _ in range(4)]
    errors = []

    def work(cache, offset):
        try:
            for i in range(30):
                cache.put(f"k{offset}-{i}", scene)
                cache.get(f"k{offset}-{i - 1}")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(c, n)) for n, c in enumerate(caches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert caches[0].size_bytes() <= caches[0].limit_bytes + 4 * scene.bands.nbytes * 1.1


def test_a_scene_fetched_for_the_time_series_is_cached_with_its_cloud_layer(tmp_path, acquisitions):
    """The series' quiet fetch stores the same complete scene as a prefetch, so stepping to
    that date later neither runs the cloud detector again nor asks the source."""
    source = CountingSource()
    cache = SceneCache(tmp_path)
    quiet = SceneLoader(source, AOI, cache).fetch_quietly(acquisitions[0])
    stored = cache.get(scene_key(source.cache_id, AOI, acquisitions[0]))
    assert np.array_equal(stored.extra["cloud_probability"], quiet.extra["cloud_probability"])
    later = SceneLoader(source, AOI, cache).get(acquisitions[0])
    assert later.extra["cloud_probability"] is not None and source.calls == [acquisitions[0].id]


def wait_for_calls(source: CountingSource, count: int) -> None:
    for _ in range(1000):
        with source.lock:
            if len(source.calls) >= count:
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"the source got {source.calls}, expected {count} calls")


def test_stepping_to_a_date_the_series_is_fetching_waits_for_that_fetch(tmp_path, acquisitions):
    """No second request for the same image: the user's fetch joins the series' quiet one,
    and the scene is then held like any the user stepped to."""
    source = CountingSource()
    source.gate.clear()
    loader = SceneLoader(source, AOI, SceneCache(tmp_path))
    quiet = []
    series = threading.Thread(target=lambda: quiet.append(loader.fetch_quietly(acquisitions[0])))
    series.start()
    wait_for_calls(source, 1)
    fetch = loader.start(acquisitions[0])
    assert fetch is not None and not fetch.done()
    source.gate.set()
    scene = fetch.future.result(timeout=30)
    series.join(30)
    assert quiet == [scene] and loader.is_ready(acquisitions[0])
    assert source.calls == [acquisitions[0].id]


def test_the_series_waits_while_the_images_the_user_is_about_to_see_are_fetched(tmp_path, acquisitions):
    source = CountingSource()
    source.gate.clear()
    loader = SceneLoader(source, AOI, SceneCache(tmp_path))
    loader.prefetch(acquisitions[:2])
    wait_for_calls(source, 2)
    series = threading.Thread(target=loader.fetch_quietly, args=(acquisitions[2],))
    series.start()
    series.join(0.5)
    assert series.is_alive() and acquisitions[2].id not in source.calls  # waiting, not fetching
    source.gate.set()
    series.join(30)
    assert source.calls[2:] == [acquisitions[2].id]
    assert not loader.is_ready(acquisitions[2])  # quiet: not held in memory
