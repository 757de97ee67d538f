"""The report's HTML page in a real browser (issue #16 item 6): every figure loads.

Usage: /usr/bin/python3 test_report_browser.py <stresslab-binary> <source-dir>

Makes a small results file (crash.json, 900 steps, market,batch x 2 seeds), runs analysis/report.py
on it, and opens index.html in headless Chromium (/usr/bin/chromium) with a script appended that,
after the page's load event, records every <img>'s complete flag and natural size on <body>; the DOM
Chromium dumps is then checked: as many images as figures the report lists in summary.json, none
broken, and each decoded to the width x height its PNG header says. A copy of the page with one
corrupt image added must be reported broken (the check can fail). Without /usr/bin/chromium the
test exits 77, which ctest shows as skipped, with the reason.
"""

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from harness import Checks, run

BIN, SRC = sys.argv[1], sys.argv[2]
CHROMIUM = "/usr/bin/chromium"
SKIP = 77
TMP = tempfile.mkdtemp(prefix="sl-browser-")
CHECKS = Checks()

PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  document.body.setAttribute('data-img-total', String(imgs.length));
  document.body.setAttribute('data-img-broken', String(imgs.filter(function (i) {
    return !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0); }).length));
  document.body.setAttribute('data-img-sizes', imgs.map(function (i) {
    return i.naturalWidth + 'x' + i.naturalHeight; }).join(','));
  document.body.setAttribute('data-probe', 'done');
});
</script>"""
CORRUPT = '<figure><img src="data:image/png;base64,iVBORw0KGgoAAAAAAAAAAA==" alt="corrupt"></figure>'


def chromium_dom(html_path):
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=TMP)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", "file://" + html_path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def body_attrs(dom):
    m = re.search(r"<body([^>]*)>", dom)
    assert m, dom[:500]
    return dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', m.group(1)))


def png_sizes(html):
    """width x height from the IHDR chunk of every embedded PNG, in page order."""
    out = []
    for b64 in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html):
        head = base64.b64decode(b64)[:24]
        out.append("%dx%d" % struct.unpack(">II", head[16:24]))
    return out


def with_probe(html, extra=""):
    return html.replace("</body>", extra + PROBE + "</body>")


def make_report():
    h5 = os.path.join(TMP, "crash.h5")
    r = run([BIN, "run", os.path.join(SRC, "scenarios", "crash.json"), "--policy", "market,batch", "--seeds", "2",
             "--set", "horizon_steps=900", "--threads", "2", "--out", h5, "--quiet"])
    assert r.returncode == 0, r.stderr
    rep = os.path.join(TMP, "report")
    r = run(["/usr/bin/python3", os.path.join(SRC, "analysis", "report.py"), h5, "--out", rep])
    assert r.returncode == 0, r.stderr
    return rep


def check_figures_load():
    rep = make_report()
    with open(os.path.join(rep, "index.html"), encoding="utf-8") as fh:
        html = fh.read()
    with open(os.path.join(rep, "summary.json")) as fh:
        figures = json.load(fh)["figures"]
    expected = png_sizes(html)
    assert len(expected) == len(figures) >= 3, (len(expected), figures)  # paths x 2 policies + distributions
    page = os.path.join(TMP, "checked.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(with_probe(html))
    a = body_attrs(chromium_dom(page))
    assert a.get("data-probe") == "done", a
    assert int(a["data-img-total"]) == len(figures), a
    assert int(a["data-img-broken"]) == 0, a
    assert a["data-img-sizes"].split(",") == expected, (a["data-img-sizes"], expected)
    print(f"     {len(figures)} figures loaded in Chromium: {a['data-img-sizes']}")

    # Negative control: a corrupt image is reported broken.
    bad = os.path.join(TMP, "broken.html")
    with open(bad, "w", encoding="utf-8") as fh:
        fh.write(with_probe(html, CORRUPT))
    b = body_attrs(chromium_dom(bad))
    assert int(b["data-img-total"]) == len(figures) + 1 and int(b["data-img-broken"]) == 1, b


if not os.path.exists(CHROMIUM):
    print(f"SKIPPED: {CHROMIUM} not found, so the report page was not checked in a browser "
          "(apt-get install chromium, or scripts/setup, which installs it)")
    sys.exit(SKIP)
CHECKS.check("report.html: every figure loads in headless Chromium", check_figures_load)
rc = CHECKS.summary()
if rc == 0:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(rc)
