"""Where a click's time goes in the browser, for the labeller and the bare app (see
click_latency.py): per click, timestamps (ms after the click) of the click message sent on the
WebSocket, the first and last messages back, the "k pixels selected" text changing, and the new
image loaded. Prints medians of each phase. A diagnostic for issue 12, not a test.

    .venv/bin/python benchmarks/click_phases.py [--clicks 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.click_latency import WAIT_NEW_IMAGE, SRC_OF, prepare  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, AppServer, offline  # noqa: E402
from tests.browser.helpers import selected  # noqa: E402

PROBE = """
(() => {
  const top_ = window.top;
  if (window !== top_) {  // a component frame: note the click
    addEventListener('click', () => top_.__probe && top_.__probe.push(['click', top_.performance.now()]), true);
    addEventListener('load', () => {
      const img = document.getElementById('image');
      if (img) img.addEventListener('load', () => top_.__probe && top_.__probe.push(['imgload', top_.performance.now()]));
    });
    return;
  }
  window.__probe = [];
  const Orig = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new Orig(...a);
    const send = ws.send.bind(ws);
    ws.send = (d) => { window.__probe.push(['send', performance.now(), d.byteLength || d.size || d.length]); return send(d); };
    ws.addEventListener('message', (e) => { const n = e.data.byteLength || e.data.size || e.data.length; const entry = ['recv', performance.now(), n]; window.__probe.push(entry); if (window.__keepBytes && e.data.byteLength && n < 2000) entry.push(btoa(String.fromCharCode(...new Uint8Array(e.data)))); });
    return ws;
  };
  window.WebSocket.prototype = Orig.prototype;
  Object.assign(window.WebSocket, Orig);
  let last = '';
  new MutationObserver(() => {
    const m = document.body.innerText.match(/(\\d+) pixels? selected/);
    const now = m ? m[0] : '';
    if (now !== last) { last = now; window.__probe.push(['count', performance.now(), now]); requestAnimationFrame(() => window.__probe.push(['countframe', performance.now()])); }
  }).observe(document, {subtree: true, childList: true, characterData: true});
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__probe.push(['long', e.startTime, e.duration]); })
    .observe({type: 'longtask', buffered: false});
})();
"""


def phases(events: list) -> dict:
    clicks = [e for e in events if e[0] == "click"]
    if not clicks:
        return {}
    t0 = clicks[0][1]
    rel = [(e[0], e[1] - t0, *e[2:]) for e in events]
    sends = [e for e in rel if e[0] == "send" and e[1] >= 0]
    recvs = [e for e in rel if e[0] == "recv" and e[1] >= 0]
    counts = [e for e in rel if e[0] == "count" and e[1] >= 0]
    frames = [e for e in rel if e[0] == "countframe" and e[1] >= 0]
    loads = [e for e in rel if e[0] == "imgload" and e[1] >= 0]
    longs = [e for e in rel if e[0] == "long" and e[1] >= 0]
    return {
        "send": sends[0][1] if sends else None,
        "first recv": recvs[0][1] if recvs else None,
        "last recv": recvs[-1][1] if recvs else None,
        "recvs": len(recvs),
        "bytes": sum(e[2] or 0 for e in recvs),
        "count": counts[0][1] if counts else None,
        "count frame": frames[0][1] if frames else None,
        "image": loads[-1][1] if loads else None,
        "long tasks": sum(e[2] for e in longs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "app").mkdir()
        (tmp / "bare").mkdir()
        app = AppServer(data_dir=tmp / "app", log_path=tmp / "app.log").start()
        bare = AppServer(data_dir=tmp / "bare", log_path=tmp / "bare.log", script="benchmarks/bare_click_app.py")
        bare.start()
        try:
            rows = {"app": [], "bare": []}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = {}
                for name, url in (("app", app.url), ("bare", bare.url)):
                    context = browser.new_context(viewport={"width": 1366, "height": 768})
                    context.route(NOT_LOOPBACK, offline)
                    context.add_init_script(PROBE)
                    page = context.new_page()
                    pages[name] = (page, *prepare(page, url, labeller=name == "app"))
                for k in range(1, args.clicks + 1):
                    for name in ("app", "bare") if k % 2 else ("bare", "app"):
                        page, image, inner = pages[name]
                        page.bring_to_front()
                        time.sleep(0.6)  # let the spectra refresh (labeller) finish: one click alone
                        page.evaluate("window.__probe.length = 0")
                        box = image.bounding_box()
                        before = image.evaluate(SRC_OF)
                        x = box["x"] + box["width"] * (0.05 + 0.9 * (k * 37 % args.clicks) / args.clicks)
                        y = box["y"] + box["height"] * (0.05 + 0.9 * (k * 11 % args.clicks) / args.clicks)
                        page.mouse.click(x, y)
                        page.get_by_text(selected(k)).wait_for()
                        inner.evaluate(WAIT_NEW_IMAGE, before)
                        page.wait_for_timeout(100)
                        rows[name].append(phases(page.evaluate("window.__probe")))
                browser.close()
        finally:
            app.stop()
            bare.stop()
    for name, found in rows.items():
        print(name)
        for key in found[0]:
            values = [r[key] for r in found if r.get(key) is not None]
            if values:
                print(f"  {key:12s} p50 {statistics.median(values):8.1f}   max {max(values):8.1f}  n={len(values)}")


if __name__ == "__main__":
    main()
