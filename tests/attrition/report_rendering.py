"""Render the demo's feasibility report in headless Chromium: screenshots (desktop and phone width) and A4 print.

Used by `make report-check` (pictures to look at, in a git-ignored folder) and by
tests/attrition/test_report_rendering.py (marked slow; skipped when Chromium is absent).

    python -m tests.attrition.report_rendering OUT_DIR

writes OUT_DIR/report/ (the report folder), screen-1280.png, phone-390.png,
report.pdf and, when poppler's `pdftoppm` is installed, page-NN.png per page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# No network, no first-run or sync machinery, a throw-away profile: the report must render on its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
A4_POINTS = (595.0, 842.0)


@dataclass
class Rendering:
    """The files one rendering produced."""

    html: Path
    screenshots: dict[str, Path] = field(default_factory=dict)
    pdf: Path | None = None
    pages: list[Path] = field(default_factory=list)


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def _chromium(binary: str, args: list[str], profile: Path) -> None:
    command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


def render(html: Path, out: Path, *, chromium: str | None = None) -> Rendering:
    """Screenshots at 1280 px and 390 px wide, the A4 PDF and (with pdftoppm) a PNG per printed page."""
    binary = chromium or find_chromium()
    if binary is None:
        raise RuntimeError("no Chromium found: apt-get install chromium")
    out.mkdir(parents=True, exist_ok=True)
    rendering = Rendering(html=html)
    url = html.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for name, size in (("screen-1280", "1280,2400"), ("phone-390", "390,2400")):
            target = out / f"{name}.png"
            _chromium(binary, [f"--window-size={size}", f"--screenshot={target}", url], Path(profile))
            rendering.screenshots[name] = target
        rendering.pdf = out / "report.pdf"
        _chromium(binary, ["--no-pdf-header-footer", f"--print-to-pdf={rendering.pdf}", url], Path(profile))
    if shutil.which("pdftoppm"):
        for old in out.glob("page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(rendering.pdf), str(out / "page")], check=True, timeout=180)
        rendering.pages = sorted(out.glob("page-*.png"))
    return rendering


def pdf_pages(pdf: Path) -> list[tuple[float, float]]:
    """The (width, height) in points of each page of a PDF as Chromium writes it (uncompressed page objects)."""
    data = pdf.read_bytes()
    pages = re.findall(
        rb"/Type\s*/Page[^s].{0,400}?/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", data, re.S
    )
    if not pages:  # MediaBox inherited from the page tree
        count = len(re.findall(rb"/Type\s*/Page[^s]", data))
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", data)
        if box is None:
            return []
        pages = [box.groups()] * count
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in pages]


def render_demo_report(out: Path) -> Rendering:
    """Screen the bundled demo, write its report (with an accrual section) into OUT/report and render it."""
    from oligo_cohort.api import screen
    from oligo_cohort.attrition.feasibility import write_feasibility_report
    from oligo_cohort.attrition.views import Options
    from oligo_cohort.paths import demo_extract_dir

    result = screen(demo_extract_dir())
    folder = out / "report"  # an earlier rendering's report is replaced; anything else there is refused
    options = Options(by=("site", "year"), review_pass_rates={"inc_lat_amenable": 0.61})
    write_feasibility_report(
        result, folder, options=options, write_screen=False, author="report-check", target=20, formats=("svg",)
    )
    return render(folder / "shareable" / "report.html", out)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "report-check")
    rendering = render_demo_report(out)
    sizes = pdf_pages(rendering.pdf) if rendering.pdf else []
    print(f"report:       {rendering.html}")
    for name, path in rendering.screenshots.items():
        print(f"{name + ':':<13} {path}")
    print(f"pdf:          {rendering.pdf} ({len(sizes)} pages, {sizes[0][0]:.0f} x {sizes[0][1]:.0f} pt)")
    if rendering.pages:
        print(f"pages:        {rendering.pages[0].parent}/page-*.png ({len(rendering.pages)})")
    else:
        print("pages:        (install poppler-utils for a PNG of each page)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
