"""What a click on the labelling view makes the browser redraw: React commits and components.

Starts the labeller (demo source, default area) in Chromium at 1366 x 768, clicks a few pixels,
and prints, per click, how many React commits the page made and how many components each one
rendered; then, for one commit, how those components split over the page's elements (each
``stElementContainer``, the sidebar, and the page's frame). With ``--script`` it looks at
another app file instead (e.g. benchmarks/bare_click_app.py, for comparison).

Why: Streamlit redraws nearly the whole page three or four times for each click's fragment run
(when the run starts, when its status changes, for the new elements, when it ends), so every
element on the page costs each click its components' render, however little it changed. This
tells which elements cost what. It counts through React's devtools hook
(``__REACT_DEVTOOLS_GLOBAL_HOOK__``), installed before the page loads. Not a test.

    .venv/bin/python benchmarks/redraw_census.py [--clicks 5] [--script benchmarks/bare_click_app.py]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NOT_LOOPBACK, AppServer, offline  # noqa: E402
from tests.browser.helpers import selected, wait_idle  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from click_latency import prepare  # noqa: E402 - the same start: open, Start, wait for the image

COMPOSITE = "[0, 1, 11, 14, 15]"  # React's fiber tags of function, class, forwardRef and memo components
HOOK = f"""
(() => {{
  if (window !== window.top) return;
  const commits = window.__s2commits = [];
  const labelOf = (node) => {{
    const id = node.dataset.testid;
    if (id === "stSidebar") return "sidebar";
    const inner = node.querySelector("[data-testid]");
    const text = (node.innerText || "").replace(/\\s+/g, " ").trim().slice(0, 32);
    return `${{inner ? inner.dataset.testid : id}} ${{text}}`;
  }};
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {{
    supportsFiber: true, renderers: new Map(), isDisabled: false,
    inject(renderer) {{ this.renderers.set(1, renderer); return 1; }},
    checkDCE() {{}}, onCommitFiberUnmount() {{}}, onPostCommitFiberRoot() {{}},
    onCommitFiberRoot(id, root) {{
      let rendered = 0;
      const byElement = {{}};
      const walk = (fiber, label) => {{
        for (; fiber; fiber = fiber.sibling) {{
          let here = label;
          const node = fiber.tag === 5 ? fiber.stateNode : null;  // a DOM element
          if (node && node.dataset && ["stElementContainer", "stSidebar"].includes(node.dataset.testid)) {{
            here = labelOf(node);
          }}
          if ({COMPOSITE}.includes(fiber.tag) && (fiber.alternate === null || (fiber.flags & 1))) {{
            rendered++;
            byElement[here] = (byElement[here] || 0) + 1;
          }}
          walk(fiber.child, here);
        }}
      }};
      walk(root.current.child, "(page frame, layout blocks, element wrappers)");
      commits.push({{ rendered, byElement }});
    }},
  }};
}})();
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=5)
    parser.add_argument("--script", default="app.py", help="the app file (default: the labeller)")
    args = parser.parse_args()
    labeller = args.script == "app.py"
    with tempfile.TemporaryDirectory() as tmp:
        app = AppServer(data_dir=Path(tmp), log_path=Path(tmp) / "app.log", script=args.script)
        app.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                context.route(NOT_LOOPBACK, offline)
                context.add_init_script(HOOK)
                page = context.new_page()
                image = prepare(page, app.url, labeller=labeller)
                if labeller:  # the season's dates are fetched in the background first
                    page.wait_for_function(
                        "() => !document.body.innerText.includes('fetching dates in the background')",
                        timeout=120_000,
                    )
                last = []
                for k in range(1, args.clicks + 1):
                    box = image.bounding_box()
                    page.evaluate("() => { window.__s2commits.length = 0; }")
                    x, y = 0.1 + 0.08 * (k % 10), 0.1 + 0.08 * (k // 10 % 10)  # a new pixel each time
                    page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
                    page.get_by_text(selected(k)).wait_for()
                    wait_idle(page)  # the run's last commits (its end, its status)
                    last = page.evaluate("() => window.__s2commits")
                    rendered = [commit["rendered"] for commit in last]
                    print(f"click {k}: {len(last)} commits, components rendered: {rendered}")
                browser.close()
        finally:
            app.stop()
    print(f"{os.cpu_count()} cores; {args.script}; one commit of the last click, by element:")
    for label, n in sorted(last[0]["byElement"].items(), key=lambda item: -item[1]):
        print(f"{n:6d}  {label}")


if __name__ == "__main__":
    main()
