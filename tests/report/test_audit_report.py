"""``grantflow audit report``: the data (``--json``), the page's escaping, and what a person
sees when the demo's report is opened in a real browser (headless Chromium).

The browser test needs Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it where
apt-get is available) and is skipped, saying so, only where none can be found.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grantflow import Grantflow
from grantflow.report import build, render_html, visible
from grantflow_cli.main import cli

NRW = "nrw-digitale-modellregionen"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "demo.sqlite"
    result = CliRunner().invoke(cli, ["demo", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def doc(demo_db: Path) -> dict[str, Any]:
    with Grantflow.open(demo_db) as gf:
        return build(gf, program=NRW)


def test_the_report_document_holds_what_an_auditor_starts_from(doc: dict[str, Any]) -> None:
    assert doc["verify"]["intact"] is True
    assert doc["verify"]["newest_digest"].startswith("gf1-")
    (program,) = doc["programs"]
    assert program["figures"]["budget"] == "91000000.00"
    assert program["chart"][-1]["committed"] == program["figures"]["committed"]
    assert len(doc["grants"]) == 49
    revoked = next(g for g in doc["grants"] if g["id"] == "DMR-2018-0008")
    assert revoked["path"] == ["proposed", "approved", "running", "revoked"]
    (refused,) = doc["lists"]["refused"]
    assert (refused["grant"], refused["rule_ids"]) == ("DMR-2018-0001", ["R-DRAWDOWN-2M"])
    first = next(g for g in doc["grants"] if g["id"] == "DMR-2018-0001")
    assert [s["log_id"] for s in first["steps"] if s["refused"]] == ["r-1"]
    (refund,) = doc["lists"]["refunds"]
    assert refund["grant"] == "DMR-2018-0008"
    assert refund["outstanding"] == "792800.00"
    assert float(refund["interest"]) > 0
    assert doc["lists"]["late_proofs"], "the demo leaves proofs of use overdue"
    assert doc["lists"]["same_person"] == []
    json.dumps(doc)  # plain JSON values only


def test_cli_writes_the_file_and_json_gives_the_same_data(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    runner = CliRunner()
    base = ["--db", str(demo_db)]
    result = runner.invoke(
        cli, [*base, "audit", "report", "--grant", "DMR-2018-0008", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "audit report written to" in result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "792.800,00 EUR" in page and "15.03.2021" in page
    result = runner.invoke(cli, [*base, "--json", "audit", "report", "--grant", "DMR-2018-0008"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [g["id"] for g in data["grants"]] == ["DMR-2018-0008"]
    assert data["lists"]["refunds"][0]["claim"] == "792800.00"


def test_stored_text_cannot_inject_markup_or_control_characters(doc: dict[str, Any]) -> None:
    hostile = copy.deepcopy(doc)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>\x1b[31m\u202egpj.exe'
    hostile["grants"][0]["applicant"] = evil
    hostile["grants"][0]["steps"][0]["reason"] = evil
    page = render_html(hostile)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page
    assert "\\x1b[31m\\u202egpj.exe" in page
    assert visible("Stadt\tPaderborn\n") == "Stadt\tPaderborn\n"


def test_a_period_and_a_report_date(demo_db: Path) -> None:
    import pendulum

    with Grantflow.open(demo_db) as gf:
        d = build(
            gf, program=NRW, since=pendulum.Date(2021, 1, 1), as_of=pendulum.Date(2021, 12, 31)
        )
    assert d["report"]["until"] == "2021-12-31"
    dates = [s["business_date"] for g in d["grants"] for s in g["steps"]]
    assert dates and min(dates) >= "2021-01-01" and max(dates) <= "2021-12-31"
    assert d["programs"][0]["chart"][-1]["as_of"] == "2021-12-31"


# -- in a real browser ---------------------------------------------------------------------


def _chromium() -> str | None:
    return next((p for b in BROWSERS if (p := shutil.which(b))), None)


SEEN = """<pre id="seen-by-test"></pre><script>
document.getElementById('seen-by-test').textContent = document.querySelector('main').innerText;
</script></body>"""
"""Added to a copy of the page for the test only (the report has no script): the text the
browser renders, as a person sees it (``innerText`` leaves out what is not displayed)."""


def _rendered_text(browser: str, page: Path) -> str:
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", SEEN), encoding="utf-8")
    result = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", probe.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    m = re.search(r'<pre id="seen-by-test">(.*?)</pre>', result.stdout, re.S)
    assert m, result.stdout[:2000]
    import html

    return html.unescape(m.group(1))


def test_the_demo_report_in_headless_chromium(demo_db: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "no Chromium found (tried chromium, chromium-browser, google-chrome): install "
            "Debian's chromium package (.ci/run does where apt-get is available)"
        )
    page = tmp_path / "audit-report.html"
    result = CliRunner().invoke(
        cli, ["--db", str(demo_db), "audit", "report", "--program", NRW, "--output", str(page)]
    )
    assert result.exit_code == 0, result.output
    seen = _rendered_text(browser, page)
    text = " ".join(seen.split())  # as read: one space for every run of white space

    # the verification banner
    assert "Verification of the log Log intact: every hash chain checked" in text
    assert re.search(r"Checked on\s+\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \(Europe/Berlin\)", text)
    assert "Newest checkpoint gf1-1-" in text
    # the program totals
    for label, amount in (
        ("Disbursed", "52.000.000,00 EUR"),
        ("Available", "27.880.360,00 EUR"),
        ("Refunds owed", "792.800,00 EUR"),
    ):
        assert re.search(rf"{label}\s+{re.escape(amount)}", text), label
    assert re.search(r"Budget \(guideline version 2021-07\)\s+91\.000\.000,00 EUR", text)
    # one grant's timeline: the revoked grant, step by step
    start = text.index("Grant DMR-2018-0008: ")
    grant = text[start : text.index("Grant DMR-2018-0009: ")]
    assert "Grantee StädteRegion Aachen" in grant
    assert "proposed → approved → running → revoked" in grant
    assert re.search(r"27\.01\.2019\s.*anton\.approver", grant)
    assert "notice BR-AACHEN-48.01-008/2019" in grant
    assert "refund claim: 792.800,00 EUR" in grant
    assert "declared" in grant
    # a refused attempt, in place in its grant's timeline and in the list
    first = text[text.index("Grant DMR-2018-0001: ") : text.index("Grant DMR-2018-0002: ")]
    assert re.search(r"01\.12\.2018\s.*fiona\.finance", first)
    assert "REFUSED disburse" in first
    assert re.search(r"refused by R-DRAWDOWN-2M \(hard\): 864[.,]000[.,]00 EUR requested", first)
    assert re.search(r"Refused attempts \(1\)", text)


def test_the_report_prints(demo_db: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium found: install Debian's chromium package")
    page = tmp_path / "one.html"
    runner = CliRunner()
    args = ["--db", str(demo_db), "audit", "report", "--grant", "DMR-2018-0008", "-o", str(page)]
    assert runner.invoke(cli, args).exit_code == 0
    pdf = tmp_path / "one.pdf"
    subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert pdf.read_bytes().startswith(b"%PDF")
