"""The shareable HTML report in a real browser (Debian's Chromium through Playwright): it renders
its counts, charts and table from a local file with no network request, and a screenshot is saved
under screenshots/ (docs/report.png with ADROP_SCREENSHOTS_TO_DOCS=1, for the README)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from adrop_kit.cli import main
from adrop_kit.explore.synth import write_sample

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium chromium-driver) "
                "to run the browser test", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


def test_the_html_report_renders_offline_in_chromium(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = Path("export.jsonl")
    write_sample(data, 3000, seed=11)
    assert main(["validate", str(data), "--html", "report.html"]) == 1  # the sample has planted errors
    assert "The report as a page: report.html" in capsys.readouterr().out
    page_path = tmp_path / "report.html"

    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_selector("svg")
            assert page.title() == f"Validation report: {data}"
            cards = page.locator(".card").all_inner_texts()
            assert [c.split()[-1] for c in cards] == ["rows", "valid", "invalid", "warned"]
            assert cards[0].split()[0] == "3,000"
            assert page.locator("svg").count() == 2 and page.locator("svg rect").count() >= 5
            assert "would be rejected by Adrop" in page.locator(".verdict").inner_text()
            assert page.locator("table.adrop-table").count() == 2
            shots = ROOT / "screenshots"
            shots.mkdir(exist_ok=True)
            page.screenshot(path=str(shots / "report.png"), full_page=False)
        finally:
            browser.close()
    assert requests == [page_path.as_uri()]  # nothing fetched but the page itself
    if os.environ.get("ADROP_SCREENSHOTS_TO_DOCS"):
        shutil.copy(shots / "report.png", ROOT / "docs" / "report.png")
