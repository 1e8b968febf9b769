"""The feasibility report as a browser shows and prints it: headless Chromium, screen and A4 PDF (slow).

Skipped when Chromium is not installed (`apt-get install chromium`); `make report-check` writes the same
pictures into report-check/ to look at.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.attrition.report_rendering import A4_POINTS, find_chromium, pdf_pages, render_demo_report

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed"),
]


@pytest.fixture(scope="module")
def rendering(tmp_path_factory):
    return render_demo_report(tmp_path_factory.mktemp("report-check"))


def test_the_report_is_one_file_without_network_references(rendering):
    page = rendering.html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(http" not in page
    assert "@page" in page and "@media print" in page


def test_screenshots_show_the_page_at_desktop_and_phone_width(rendering):
    from PIL import Image

    for name, path in rendering.screenshots.items():
        pixels = np.asarray(Image.open(path).convert("L"))
        assert pixels.shape[1] == int(name.rsplit("-", 1)[1]), name
        assert (pixels < 200).mean() > 0.02, f"{name} looks blank"


def test_the_print_is_a_handful_of_a4_pages(rendering):
    sizes = pdf_pages(rendering.pdf)
    assert 4 <= len(sizes) <= 30, len(sizes)
    for width, height in sizes:
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)
    if rendering.pages:  # poppler installed: no page is empty
        from PIL import Image

        for page in rendering.pages:
            assert np.asarray(Image.open(page).convert("L")).min() < 100, f"{page.name} is blank"
