"""Screenshots of an html analysis report in a real browser (Debian's Chromium, driven by Playwright): the
reviewer's set under docs/report/. Usage:

    python scripts/report_screenshots.py <report.html> [docs/report]

Writes one screenshot per second-level section (its heading to the next, at most 2,400 pixels), as PNG files.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

# Chromium as root, on a machine whose network is closed: no sandbox, no background connections
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CHROMIUM = "/usr/bin/chromium"


def shoot(report: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
        page.goto(report.resolve().as_uri())
        for i, h in enumerate(page.query_selector_all("h2"), start=1):
            box = page.evaluate(
                """h => { const next = [...document.querySelectorAll('h2')].find(x =>
                          x.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_PRECEDING);
                          const top = h.getBoundingClientRect().top + window.scrollY;
                          const end = next ? next.getBoundingClientRect().top + window.scrollY
                                           : document.body.scrollHeight;
                          return {top, height: Math.min(end - top, 2400)}; }""",
                h,
            )
            title = "".join(c for c in h.inner_text() if c.isalnum())[:20]
            path = out / f"{i:02d}_{title}.png"
            page.screenshot(
                path=str(path), full_page=True, clip={"x": 0, "y": box["top"], "width": 1200, "height": box["height"]}
            )
            written.append(path)
        browser.close()
    return written


if __name__ == "__main__":
    for p in shoot(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/report")):
        print(p)
