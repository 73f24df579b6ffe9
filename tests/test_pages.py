"""HTML output seen the way a person sees it: rendered by a real headless Chromium, screenshot, pixels checked.

CI's .ci/run installs Debian's chromium; without it locally these tests skip and say so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from test_cli import run

from ner_cli.html import COLOURS

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI's .ci/run installs it: "
                                                            "apt-get install chromium)")
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"    # kept after the run, to look at


def screenshot(page: Path, png: Path, size: str = "1100,900") -> np.ndarray:
    """Render `page` in headless Chromium and return the screenshot as an (H, W, 3) uint8 array."""
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--no-first-run", "--disable-extensions", f"--window-size={size}", f"--screenshot={png}",
                    page.resolve().as_uri()], capture_output=True, timeout=120, check=False)
    assert png.is_file(), "chromium wrote no screenshot"
    image = pytest.importorskip("matplotlib.image")
    rgb = image.imread(png)[..., :3]
    return (rgb * 255).round().astype(np.uint8) if rgb.dtype != np.uint8 else rgb


def pixels_near(img: np.ndarray, hex_colour: str, tol: int = 6) -> int:
    """How many pixels are within `tol` of the colour on every channel."""
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img.astype(int) - want).max(axis=2) <= tol).sum())


def not_blank(img: np.ndarray) -> float:
    """Fraction of pixels that are not (near) white."""
    return float((img.astype(int).min(axis=2) < 235).mean())


def test_html_escapes_the_input(sample_model, tmp_path):
    text = "Ana Costa flew to Lisbon .\n<script>alert('x')</script> & <b>Paris</b>\n"
    p = run("tag", "-", "--model", str(sample_model), "--format", "html", input=text, check=True)
    page = p.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;" in page and "<b>" not in page and 'class="legend"' in page
    assert page.count('<p class="line">') == 2                   # one paragraph per input line
    assert "http" not in page.replace("http-equiv", "")          # self-contained: nothing fetched


@needs_browser
def test_tag_html_renders_with_entity_colours(sample_model, tmp_path):
    text = (SAMPLE / "raw.txt").read_text(encoding="utf-8").splitlines()[:12]
    text.append("<script>document.body.innerHTML = ''</script> Ana Costa flew to Lisbon .")
    page = tmp_path / "tagged.html"
    p = run("tag", "-", "--model", str(sample_model), "--format", "html", input="\n".join(text) + "\n", check=True)
    page.write_text(p.stdout, encoding="utf-8")
    img = screenshot(page, SHOTS / "tag.png")
    assert not_blank(img) > 0.02, "the page looks blank"
    for typ in ("PER", "LOC", "ORG"):
        assert pixels_near(img, COLOURS[typ]) > 200, f"no {typ} colour on screen"


@needs_browser
def test_report_renders_plots_and_spans(sample_model, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.html"
    p = run("report", str(sample_model), str(SAMPLE / "dev.txt"), "-o", str(out), check=True)
    assert out.is_file() and "wrote" in p.stderr
    page = out.read_text(encoding="utf-8")
    for section in ("Learning curves", "Per type", "Confusion", "Calibration", "Errors"):
        assert f"<h2>{section}</h2>" in page
    assert page.count("data:image/png;base64,") == 3             # curves, heatmap, reliability
    img = screenshot(out, SHOTS / "report.png", size="1100,5200")
    assert not_blank(img) > 0.05
    assert pixels_near(img, COLOURS["PER"]) > 100 and pixels_near(img, COLOURS["LOC"]) > 100
    assert pixels_near(img, "#08306b", tol=30) > 50               # the darkest blue of the heatmap
