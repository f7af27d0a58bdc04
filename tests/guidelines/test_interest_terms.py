"""``[versions.interest]``: the interest terms of a guideline version, their statutory defaults,
what is refused, layering, and what the packaged guidelines say."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grantflow.domain.guideline import InterestStart
from grantflow.domain.interest import DayCount
from grantflow.errors import GuidelineError
from grantflow.guidelines import load, load_text
from tests.guidelines.test_loader import VALID

WINDOW_RULE = """
[[versions.rules]]
id = "R-DRAWDOWN-2M"
kind = "drawdown-window"
citation = "Testzitat Abrufzeitraum"
[versions.rules.params]
months = 3
"""

INTEREST = """
[versions.interest]
day_count = "act/act"
day_count_assumed = true

[versions.interest.refund]
citation = "Testzitat Erstattungszinsen"
margin_points = "3"
starts = "day-after-payout"
confidence = "M"

[versions.interest.interim]
id = "R-INTERIM-INTEREST"
citation = "Testzitat Zwischenzinsen"
window_months = 3
starts = "day-after-payout"
assumed = true
confidence = "L"
note = "Testnotiz"
"""


def test_without_the_table_the_statutory_terms_apply() -> None:
    terms = load_text(VALID).latest.interest
    assert not terms.declared
    assert terms.day_count is DayCount.ACT_365
    assert (terms.refund.rule_id, terms.refund.margin, terms.refund.starts) == (
        "R-REFUND-INTEREST",
        Decimal("5"),
        InterestStart.EFFECTIVE_DATE,
    )
    assert (terms.interim.margin, terms.interim.window_months, terms.interim.starts) == (
        Decimal("5"),
        2,
        InterestStart.PAYOUT,
    )


def test_without_the_table_the_interim_window_is_the_drawdown_rules() -> None:
    assert load_text(VALID + WINDOW_RULE).latest.interest.interim.window_months == 3


def test_the_table_sets_every_term() -> None:
    terms = load_text(VALID + WINDOW_RULE + INTEREST).latest.interest
    assert terms.declared and terms.day_count_assumed
    assert terms.day_count is DayCount.ACT_ACT
    assert (terms.refund.rule_id, terms.refund.margin, terms.refund.starts) == (
        "R-REFUND-INTEREST",  # the default id
        Decimal("3"),
        InterestStart.DAY_AFTER_PAYOUT,
    )
    assert (terms.refund.citation, terms.refund.confidence) == ("Testzitat Erstattungszinsen", "M")
    assert (terms.interim.window_months, terms.interim.margin) == (3, Decimal("5"))
    assert (terms.interim.assumed, terms.interim.confidence, terms.interim.note) == (
        True,
        "L",
        "Testnotiz",
    )


def test_a_later_version_changes_one_term_and_keeps_the_others() -> None:
    later = """
[[versions]]
version = "2021-01"
effective_from = 2021-01-01
[versions.interest.refund]
margin_points = "4.5"
"""
    first, second = load_text(VALID + WINDOW_RULE + INTEREST + later).versions
    assert second.interest.refund.margin == Decimal("4.5")
    assert first.interest.refund.margin == Decimal("3")
    assert second.interest.refund.starts is InterestStart.DAY_AFTER_PAYOUT
    assert second.interest.interim == first.interest.interim
    assert first.content_hash != second.content_hash


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        ('margin_points = "3"', 'margin_points = "-1"', "interest.refund.margin_points", "0 to 100"),
        ('margin_points = "3"', 'margin_points = "5.005"', "interest.refund.margin_points", "two"),
        ('margin_points = "3"', "margin_points = 5.5", "interest.refund.margin_points", "string"),
        ('starts = "day-after-payout"\nconfidence = "M"', 'starts = "tomorrow"\nconfidence = "M"',
         "interest.refund.starts", "effective-date"),
        ('window_months = 3\nstarts = "day-after-payout"',
         'window_months = 3\nstarts = "effective-date"', "interest.interim.starts", "payout"),
        ('day_count = "act/act"', 'day_count = "30/360"', "interest.day_count", "act/365"),
        ("window_months = 3", "window_months = 2", "interest.interim.window_months",
         "the drawdown window of rule R-DRAWDOWN-2M (3 months)"),
        ('id = "R-INTERIM-INTEREST"', 'id = "GF-INTERIM"', "interest.interim.id", "catalog id"),
        ('citation = "Testzitat Erstattungszinsen"\n', "", "interest.refund.citation", "missing"),
        ('note = "Testnotiz"', 'nots = "Testnotiz"', "interest.interim.nots", "typo"),
    ],
)  # fmt: skip
def test_malformed_interest_terms_are_refused_with_their_path(
    old: str, new: str, path: str, expected: str
) -> None:
    text = VALID + WINDOW_RULE + INTEREST
    assert text.count(old) == 1, old
    with pytest.raises(GuidelineError) as refused:
        load_text(text.replace(old, new))
    problems = [str(p) for p in refused.value.problems]
    found = [p for p in problems if p.startswith(f"versions[0].{path}")]
    assert found, problems
    assert expected in found[0] or (expected == "missing" and "missing" in found[0]), found


def test_the_packaged_guidelines_carry_their_interest_terms() -> None:
    nrw = load("nrw-digitale-modellregionen")
    mpsc = load("smart-cities-mpsc")
    for program in (nrw, mpsc):
        for version in program.versions:
            terms = version.interest
            assert terms.declared and terms.day_count_assumed  # no statute on the day count
            assert (terms.refund.margin, terms.interim.margin) == (Decimal("5"), Decimal("5"))
            assert terms.interim.window_months == 2
            assert terms.refund.confidence in {"H", "M", "L"}
    assert nrw.latest.interest.refund.starts is InterestStart.EFFECTIVE_DATE
    assert mpsc.latest.interest.refund.starts is InterestStart.DAY_AFTER_PAYOUT
    interim = mpsc.latest.interest.interim
    assert interim.assumed and interim.confidence == "L"  # KfW terms not retrieved (OQ-6)
