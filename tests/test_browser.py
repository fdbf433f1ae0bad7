"""The notebooks in a real browser: JupyterLab (headless, loopback, token off, temporary settings)
driven through Playwright with Debian's Chromium. Run All on each notebook, then check that the
widgets rendered and work, and save a screenshot of each under screenshots/ (git-ignored).

Set ADROP_SCREENSHOTS_TO_DOCS=1 to also copy them to docs/notebook-N.png for the README.
Skips, saying why, without /usr/bin/chromium (CI: apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,  # a real browser on JupyterLab: minutes, not seconds
              pytest.mark.xdist_group("browser")]  # under pytest-xdist: one JupyterLab and one Chromium
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "screenshots"
START_TIMEOUT = 180  # s for JupyterLab to answer (limits to fail by, not bounds: generous for a loaded machine)
RUN_TIMEOUT = 300_000  # ms for Run All of one notebook
STEP_TIMEOUT = 90_000  # ms for anything else in the page

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium chromium-driver) "
                "to run the browser test", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install 'adrop-kit[notebooks]')")
pytest.importorskip("ipywidgets")

# the user settings JupyterLab starts with: no news or update checks (no network), every cell rendered
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free loopback port, on a temporary copy of notebooks/."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"))
    for rel, value in SETTINGS.items():
        path = base / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = {k: v for k, v in os.environ.items() if k not in ("ADROP_ENDPOINT", "ADROP_APP_KEY")}
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        (base / sub).mkdir(exist_ok=True)
        env[var] = str(base / sub)
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=",
           "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = (base / "lab.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start: {(base / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            pg = browser.new_page(viewport={"width": 1280, "height": 1000})
            pg.set_default_timeout(STEP_TIMEOUT)
            yield pg
        finally:
            browser.close()


def open_and_run_all(page, lab: str, name: str) -> None:
    """Open a notebook in a fresh workspace, wait for its kernel, Run > Run All Cells, wait until done."""
    import nbformat

    n_cells = len(nbformat.read(NOTEBOOKS / name, as_version=4).cells)
    page.goto(f"{lab}/lab/tree/{name}?reset")
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length >= {n_cells}")
    page.get_by_text(re.compile(r"\| Idle$")).wait_for()  # the status bar: "Python 3 (ipykernel) | Idle"
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_function(
        "() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];"
        " return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.innerText)); }", timeout=RUN_TIMEOUT)
    page.get_by_text(re.compile(r"\| Idle$")).wait_for()
    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
    assert "Traceback (most recent call last)" not in text, text[-3000:]
    assert "Error displaying widget" not in text and "Failed to load model" not in text


def shoot(page, n: int, anchor: str | None) -> Path:
    """A screenshot of the notebook with `anchor` scrolled to the top, sidebar closed."""
    side = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if side.count():
        side.first.click()  # collapse the file browser
    page.set_viewport_size({"width": 1280, "height": 1560})
    if anchor:
        page.locator(anchor).first.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"notebook-{n}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 1000})
    if os.environ.get("ADROP_SCREENSHOTS_TO_DOCS"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(path, ROOT / "docs" / path.name)
    return path


def test_validate_notebook_renders_its_widgets_in_chromium(page, lab):
    open_and_run_all(page, lab, "01_validate.ipynb")
    validator = page.locator(".adrop-dataset-validator")
    validator.wait_for()
    summary = validator.locator(".adrop-summary")
    assert re.search(r"5,000\s+rows", summary.inner_text())
    chart = validator.locator(".adrop-failures-chart img")
    chart.wait_for()
    assert chart.evaluate("img => img.naturalWidth") > 300
    # the rule filter works in the browser too: only E005 rows remain
    validator.locator("select").first.select_option("E005")
    page.wait_for_function("() => { const t = document.querySelector('.adrop-dataset-validator table.adrop-failures');"
                           " return t && [...t.querySelectorAll('tbody tr')].every("
                           "r => r.children[2].innerText === 'E005'); }")
    assert validator.locator("a.adrop-download").count() == 2
    validator.locator("select").first.select_option("(all)")
    assert shoot(page, 1, ".adrop-dataset-validator").stat().st_size > 10_000


def test_explore_notebook_runs_in_chromium(page, lab):
    if not (NOTEBOOKS / "02_explore.ipynb").exists():
        pytest.skip("notebooks/02_explore.ipynb is not there")
    open_and_run_all(page, lab, "02_explore.ipynb")
    assert page.locator(".jp-OutputArea-output img").count() >= 3
    shoot(page, 2, ".jp-MarkdownOutput h2:has-text('Commerce funnel')")


def test_contract_notebook_renders_the_fuzz_lab_in_chromium(page, lab):
    open_and_run_all(page, lab, "03_contract.ipynb")
    lab_widget = page.locator(".adrop-fuzz-lab")
    lab_widget.wait_for()
    lab_widget.locator("button:has-text('Send drawn')").click()
    lab_widget.locator(".adrop-fuzz-verdicts").wait_for()
    assert "W101" in page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").inner_text()
    shoot(page, 3, ".jp-MarkdownOutput h2:has-text('A contract test')")


def test_send_notebook_dry_runs_then_sends_from_the_browser(page, lab):
    open_and_run_all(page, lab, "04_send.ipynb")
    composer = page.locator(".adrop-composer")
    composer.wait_for()
    assert "E005" in composer.locator(".adrop-violations").inner_text()
    composer.locator("input[type='text']").nth(1).fill("email")  # the form: uid, then method
    page.wait_for_function("() => !document.querySelector('.adrop-composer .adrop-violations')"
                           ".innerText.includes('E005')")
    panel = page.locator(".adrop-send-panel")
    panel.locator("button:text-is('Dry run')").click()
    panel.locator(".adrop-request").wait_for()
    assert re.search(r"Authorization: lo…\w\w", panel.locator(".adrop-request").inner_text())
    assert "dry run — nothing sent" in panel.locator(".adrop-send-counts").inner_text()
    panel.locator("button:text-is('Send')").click()
    page.wait_for_function("() => /^sent to/.test(document.querySelector('.adrop-send-panel .adrop-send-counts')"
                           "?.innerText || '')")  # the final counts (live ones carry no title)
    assert re.search(r"9\d\d\s+delivered", panel.locator(".adrop-send-counts").inner_text())
    shoot(page, 4, ".adrop-composer")
