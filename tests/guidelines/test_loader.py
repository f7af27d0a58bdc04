"""Guideline files: what is refused (and how it is reported), layering, look-ups, hashes, and
the facts the two packaged guidelines must carry."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pendulum
import pytest

from grantflow.domain.model import ApplicantKind, Event, Severity
from grantflow.domain.rules import FundingRateRule
from grantflow.errors import MISSING, GuidelineError, NotFound
from grantflow.guidelines import load, load_file, load_text
from grantflow.guidelines.loader import builtin_path

VALID = """
schema = 1

[program]
id = "testprogramm"
name = "Testprogramm"
short = "TP"

[[versions]]
version = "2020-01"
effective_from = 2020-01-01
title = "Richtlinie 2020"
source = "Testquelle"
budget = "1000000.00"
funds_from = 2020-01-01
funds_until = 2022-12-31
notes = ["first note"]

[[versions.regions]]
id = "nord"
name = "Region Nord"
lead = "Stadt Nordstadt"
partners = ["Kreis Nord"]
envelope = "400000.00"

[[versions.regions]]
id = "sued"
name = "Region Süd"
lead = "Stadt Südstadt"

[[versions.calls]]
id = "aufruf-1"
name = "1. Aufruf"
opens = 2020-02-01
closes = 2020-03-31
budget = "500000.00"

[[versions.applicants]]
name = "Stadt Nordstadt"
kind = "municipality"
region = "nord"

[[versions.applicants]]
name = "Kreis Nord"
kind = "municipality"
region = "nord"

[[versions.applicants]]
name = "Stadt Südstadt"
kind = "municipality"
region = "sued"

[[versions.rules]]
id = "R-FUNDING-TYPE"
kind = "funding-rate"
citation = "Testzitat Fördersatz"
[versions.rules.params]
default_rate = "0.50"

[[versions.rules]]
id = "R-SUBSIDIARITY-INTEREST"
kind = "budget"
citation = "Testzitat Haushaltsmittel"
[versions.rules.params]
scope = "program"
"""

SECOND_VERSION = """
[[versions]]
version = "2021-01"
effective_from = 2021-01-01
"""

THIRD_REGION_NORD = """
[[versions.regions]]
id = "nord"
name = "Region Nord (doppelt)"
lead = "Stadt Nordstadt"
"""

SECOND_FUNDING_RULE = """
[[versions.rules]]
id = "R-FUNDING-TYPE"
kind = "funding-rate"
citation = "noch einmal"
[versions.rules.params]
default_rate = "0.60"
"""


def _changed(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_base_document_is_valid() -> None:
    program = load_text(VALID)
    assert program.id == "testprogramm"
    assert program.short == "TP"
    assert [v.version for v in program.versions] == ["2020-01"]


# Each case: the document, then the key path, the value found and a piece of what was expected.
MALFORMED = {
    "missing key": (
        _changed('title = "Richtlinie 2020"\n', ""),
        "versions[0].title",
        MISSING,
        "a non-empty string",
    ),
    "wrong type": (
        _changed('budget = "1000000.00"', "budget = true"),
        "versions[0].budget",
        True,
        "a non-negative amount in euros",
    ),
    "wrong type of a date": (
        _changed("funds_from = 2020-01-01", 'funds_from = "1. Januar 2020"'),
        "versions[0].funds_from",
        "1. Januar 2020",
        "a date such as 2021-12-31",
    ),
    "negative budget": (
        _changed('budget = "1000000.00"', 'budget = "-1000000.00"'),
        "versions[0].budget",
        "-1000000.00",
        "a non-negative amount in euros",
    ),
    "zero budget": (
        _changed('budget = "1000000.00"', 'budget = "0.00"'),
        "versions[0].budget",
        "0.00",
        "a budget of more than zero",
    ),
    "negative call budget": (
        _changed('budget = "500000.00"', 'budget = "-500000.00"'),
        "versions[0].calls[0].budget",
        "-500000.00",
        "a non-negative amount in euros",
    ),
    "amount with fractions of a cent": (
        _changed('envelope = "400000.00"', 'envelope = "400000.005"'),
        "versions[0].regions[0].envelope",
        "400000.005",
        "a non-negative amount in euros",
    ),
    "funds end before they start": (
        _changed("funds_until = 2022-12-31", "funds_until = 2019-12-31"),
        "versions[0].funds_until",
        "2019-12-31",
        "a date on or after funds_from 2020-01-01",
    ),
    "call window ends before it opens": (
        _changed("closes = 2020-03-31", "closes = 2020-01-15"),
        "versions[0].calls[0].closes",
        "2020-01-15",
        "a date on or after opens 2020-02-01",
    ),
    "unknown rule kind": (
        _changed('kind = "funding-rate"', 'kind = "funding-rat"'),
        "versions[0].rules[0].kind",
        "funding-rat",
        "a rule kind: annual-funds, attestations, budget,",
    ),
    "duplicate region": (
        VALID.replace("[[versions.calls]]", THIRD_REGION_NORD + "\n[[versions.calls]]"),
        "versions[0].regions[2].id",
        "nord",
        "an id not used by another entry of regions",
    ),
    "unknown key (a typo)": (
        _changed('budget = "1000000.00"', 'budget = "1000000.00"\nbudgett = "5"'),
        "versions[0].budgett",
        "5",
        "no such key here (a typo?)",
    ),
    "typo in a rule parameter": (
        _changed('scope = "program"', 'scope = "program"\nscpoe = "call"'),
        "versions[0].rules[1].params.scpoe",
        "call",
        "no such key here (a typo?)",
    ),
    "rate above 1": (
        _changed('default_rate = "0.50"', 'default_rate = "1.5"'),
        "versions[0].rules[0].params.default_rate",
        "1.5",
        'a rate between 0 and 1 as a string such as "0.80"',
    ),
    "rate as a float": (
        _changed('default_rate = "0.50"', "default_rate = 0.5"),
        "versions[0].rules[0].params.default_rate",
        0.5,
        'a rate between 0 and 1 as a string such as "0.80"',
    ),
    "rule id reused": (
        VALID + SECOND_FUNDING_RULE,
        "versions[0].rules[2].id",
        "R-FUNDING-TYPE",
        "a rule id used once per version",
    ),
    "rule id reused in a later version": (
        VALID + SECOND_VERSION + SECOND_FUNDING_RULE + SECOND_FUNDING_RULE,
        "versions[1].rules[1].id",
        "R-FUNDING-TYPE",
        "each id only once in this version's rules",
    ),
    "GF- id in a file": (
        _changed('id = "R-SUBSIDIARITY-INTEREST"', 'id = "GF-CEILING"'),
        "versions[0].rules[1].id",
        "GF-CEILING",
        "a catalog id (R-...); GF- ids are grantflow's core rules",
    ),
    "version effective dates not increasing": (
        VALID + SECOND_VERSION.replace("2021-01-01", "2020-01-01"),
        "versions[1].effective_from",
        "2020-01-01",
        "a date after the previous version's 2020-01-01",
    ),
    "version id reused": (
        VALID + SECOND_VERSION.replace('"2021-01"', '"2020-01"'),
        "versions[1].version",
        "2020-01",
        "a version id used once",
    ),
    "region partner not in applicants": (
        _changed('partners = ["Kreis Nord"]', 'partners = ["Kreis Nord", "Gemeinde Ostdorf"]'),
        "versions[0].regions[0].partners",
        "Gemeinde Ostdorf",
        "every lead and partner of a region listed in [[versions.applicants]]",
    ),
    "applicant in an unknown region": (
        _changed('region = "sued"', 'region = "west"'),
        "versions[0].applicants[2].region",
        "west",
        "the id of a region of this version",
    ),
    "unknown applicant kind": (
        _changed(
            'name = "Kreis Nord"\nkind = "municipality"', 'name = "Kreis Nord"\nkind = "kreis"'
        ),
        "versions[0].applicants[1].kind",
        "kreis",
        "one of authority, business, municipal-company, municipality",
    ),
    "applicant listed twice (case-insensitively)": (
        VALID.replace(
            "[[versions.rules]]",
            '[[versions.applicants]]\nname = "stadt  NORDSTADT"\nkind = "municipality"\n\n'
            "[[versions.rules]]",
            1,
        ),
        "versions[0].applicants[3].name",
        "stadt  NORDSTADT",
        "a name listed once",
    ),
    "unknown event": (
        _changed(
            'citation = "Testzitat Fördersatz"',
            'citation = "Testzitat Fördersatz"\nevents = ["propose", "payout"]',
        ),
        "versions[0].rules[0].events",
        "payout",
        "event names: propose, approve",
    ),
    "wrong schema": (
        _changed("schema = 1", "schema = 2"),
        "schema",
        2,
        "schema version 1",
    ),
    "not TOML": (
        VALID + "\nthis is not toml\n",
        "(file)",
        None,
        "valid TOML",
    ),
}


@pytest.mark.parametrize("text, path, value, expected", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_guideline_is_refused_naming_path_value_and_expectation(
    text: str, path: str, value: object, expected: str
) -> None:
    with pytest.raises(GuidelineError) as info:
        load_text(text, source="test.toml")
    error = info.value
    assert [p.path for p in error.problems] == [path], error.problems
    problem = error.problems[0]
    if value is not None:  # a TOML syntax error carries the parser's message as its value
        assert problem.value == value
        assert type(problem.value) is type(value)
    assert expected in problem.expected
    message = str(error)
    assert message.startswith("guideline test.toml is not valid: ")
    assert f"{path}: " in message
    assert expected in message
    if value is MISSING:
        assert f"{path}: missing; expected" in message
    elif value is not None:
        assert f"{value!r} is not valid" in message


def test_every_problem_is_reported_at_once() -> None:
    text = VALID.replace('title = "Richtlinie 2020"\n', "").replace(
        'default_rate = "0.50"', 'default_rate = "2"'
    )
    text = text.replace('budget = "1000000.00"', 'budget = "-1.00"')
    with pytest.raises(GuidelineError) as info:
        load_text(text)
    paths = [p.path for p in info.value.problems]
    assert paths == [
        "versions[0].title",
        "versions[0].budget",
        "versions[0].rules[0].params.default_rate",
    ]


def test_a_file_without_versions_is_refused() -> None:
    text = VALID.split("[[versions]]", maxsplit=1)[0]
    with pytest.raises(GuidelineError) as info:
        load_text(text)
    assert [p.path for p in info.value.problems] == ["versions"]
    assert "at least one [[versions]] table" in str(info.value)


# ============================================================================================
# Layering
# ============================================================================================

LAYERED = (
    VALID
    + """
[[versions]]
version = "2021-01"
effective_from = 2021-01-01
title = "Änderung 2021"
funds_until = 2023-12-31
notes = ["second note"]

[[versions.regions]]
id = "nord"
envelope = "450000.00"

[[versions.rules]]
id = "R-FUNDING-TYPE"
[versions.rules.params]
default_rate = "0.60"

[[versions.rules]]
id = "R-SUBSIDIARITY-INTEREST"
enabled = false

[[versions]]
version = "2022-01"
effective_from = 2022-01-01
notes = ["third note"]
"""
)


def test_a_later_version_inherits_and_overrides() -> None:
    program = load_text(LAYERED)
    first, second, third = program.versions
    assert second.title == "Änderung 2021"
    assert second.source == first.source  # inherited
    assert second.budget == first.budget == Decimal("1000000.00")
    assert (first.funds_until, second.funds_until) == (
        pendulum.Date(2022, 12, 31),
        pendulum.Date(2023, 12, 31),
    )
    assert third.funds_until == second.funds_until
    # a region merges by id: the envelope changes, lead and partners are inherited
    nord = second.region("nord")
    assert nord is not None
    assert nord.envelope == Decimal("450000.00")
    assert (nord.lead, nord.partners) == ("Stadt Nordstadt", ("Kreis Nord",))
    assert first.region("nord") is not None
    assert first.region("nord").envelope == Decimal("400000.00")  # type: ignore[union-attr]
    # a rule merges by id: the citation is inherited, the parameter overridden
    (rate,) = [r for r in second.rules if r.id == "R-FUNDING-TYPE"]
    assert isinstance(rate, FundingRateRule)
    assert rate.default_rate == Decimal("0.60")
    assert rate.citation == "Testzitat Fördersatz"


def test_enabled_false_drops_an_inherited_rule() -> None:
    program = load_text(LAYERED)
    first, second, third = program.versions
    assert [r.id for r in first.rules] == ["R-FUNDING-TYPE", "R-SUBSIDIARITY-INTEREST"]
    assert [r.id for r in second.rules] == ["R-FUNDING-TYPE"]
    assert [r.id for r in third.rules] == ["R-FUNDING-TYPE"]


def test_enabled_false_switches_a_rule_off_in_the_first_version_too() -> None:
    text = _changed(
        'citation = "Testzitat Haushaltsmittel"',
        'citation = "Testzitat Haushaltsmittel"\nenabled = false',
    )
    (version,) = load_text(text).versions
    assert [r.id for r in version.rules] == ["R-FUNDING-TYPE"]


def test_notes_add_up() -> None:
    program = load_text(LAYERED)
    assert [v.notes for v in program.versions] == [
        ("first note",),
        ("first note", "second note"),
        ("first note", "second note", "third note"),
    ]


def test_every_version_is_validated_on_its_own() -> None:
    """A mistake is reported for its version and for every later version that inherits it."""
    broken = LAYERED.replace('envelope = "450000.00"', 'envelope = "viel"')
    with pytest.raises(GuidelineError) as info:
        load_text(broken)
    assert [p.path for p in info.value.problems] == [
        "versions[1].regions[0].envelope",
        "versions[2].regions[0].envelope",
    ]


# ============================================================================================
# Look-ups
# ============================================================================================


def test_version_at_picks_the_version_in_force() -> None:
    program = load_text(LAYERED)
    at = program.version_at
    assert at(pendulum.Date(2020, 1, 1)).version == "2020-01"
    assert at(pendulum.Date(2020, 12, 31)).version == "2020-01"
    assert at(pendulum.Date(2021, 1, 1)).version == "2021-01"
    assert at(pendulum.Date(2030, 6, 1)).version == "2022-01"
    assert program.latest.version == "2022-01"
    assert program.version("2021-01").effective_from == pendulum.Date(2021, 1, 1)


def test_version_at_before_the_first_version_is_not_found() -> None:
    program = load_text(LAYERED)
    with pytest.raises(NotFound, match="no guideline version in force on 2019-12-31"):
        program.version_at(pendulum.Date(2019, 12, 31))
    with pytest.raises(NotFound, match="no guideline version '2019-01'"):
        program.version("2019-01")


def test_applicants_match_case_insensitively() -> None:
    (version,) = load_text(VALID).versions
    for typed in ("Stadt Nordstadt", "stadt nordstadt", "  STADT   Nordstadt "):
        found = version.find_applicant(typed)
        assert found is not None
        assert (found.name, found.kind, found.region) == (
            "Stadt Nordstadt",
            ApplicantKind.MUNICIPALITY,
            "nord",
        )
    assert version.find_applicant("Stadt Weststadt") is None
    # a region's lead and partners are found in the applicants regardless of case
    text = _changed('lead = "Stadt Südstadt"', 'lead = "STADT SÜDSTADT"')
    assert load_text(text).latest.region("sued") is not None


# ============================================================================================
# Hashes
# ============================================================================================


def test_document_hash_is_stable_for_equal_content() -> None:
    reordered = _changed(
        'budget = "1000000.00"\nfunds_from = 2020-01-01',
        'funds_from = 2020-01-01 # comments and key order do not count\nbudget = "1000000.00"',
    )
    a, b = load_text(VALID).latest, load_text(reordered).latest
    assert a.content_hash == b.content_hash
    assert len(a.content_hash) == 64
    assert a.content_hash == load_text(VALID).latest.content_hash


def test_document_hash_changes_with_the_content() -> None:
    base = load_text(VALID).latest.content_hash
    richer = load_text(_changed('budget = "1000000.00"', 'budget = "1000000.01"')).latest
    other_rate = load_text(_changed('default_rate = "0.50"', 'default_rate = "0.55"')).latest
    assert len({base, richer.content_hash, other_rate.content_hash}) == 3
    first, second, _ = load_text(LAYERED).versions
    assert first.content_hash == base
    assert second.content_hash != base


# ============================================================================================
# Files
# ============================================================================================


def test_load_reads_a_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "programm.toml"
    path.write_text(VALID, encoding="utf-8")
    assert load(path).id == "testprogramm"
    assert load(str(path)).id == "testprogramm"
    assert load_file(path).latest.version == "2020-01"


def test_load_refuses_what_is_neither_packaged_nor_a_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="neither a packaged guideline"):
        load(str(tmp_path / "fehlt.toml"))
    with pytest.raises(NotFound, match="no packaged guideline"):
        builtin_path("bavaria")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID.encode("latin-1"))
    with pytest.raises(GuidelineError) as info:
        load_file(path)
    assert [p.path for p in info.value.problems] == ["(file)"]


# ============================================================================================
# The packaged guidelines
# ============================================================================================


def test_nrw_funds_until_2021_extended_to_mid_2023_by_an_assumed_version() -> None:
    nrw = load("nrw-digitale-modellregionen")
    first, second = nrw.versions
    assert (first.version, first.funds_until) == ("2018-07", pendulum.Date(2021, 12, 31))
    assert (second.version, second.effective_from) == ("2021-07", pendulum.Date(2021, 7, 1))
    assert second.funds_until == pendulum.Date(2023, 6, 30)
    assert any("effective_from 2021-07-01 is assumed" in n for n in second.notes)
    assert first.budget == Decimal("91000000.00")


def test_nrw_regions_leads_partners_and_focus_areas() -> None:
    version = load("nrw-digitale-modellregionen").latest
    leads = {r.id: r.lead for r in version.regions}
    assert leads == {
        "aachen": "Stadt Aachen",
        "gelsenkirchen": "Stadt Gelsenkirchen",
        "owl": "Stadt Paderborn",
        "soest": "Stadt Soest",
        "wuppertal": "Stadt Wuppertal",
    }
    owl, soest, wuppertal = (version.region(i) for i in ("owl", "soest", "wuppertal"))
    assert owl is not None and soest is not None and wuppertal is not None
    assert owl.envelope == Decimal("19500000.00")
    assert set(owl.partners) == {
        "Kreis Paderborn",
        "Stadt Bielefeld",
        "Stadt Delbrück",
        "Bezirksregierung Detmold",
    }
    assert {"Kreis Soest", "Stadt Lippstadt", "Stadt Iserlohn"} <= set(soest.partners)
    assert {"Stadt Solingen", "Stadt Remscheid"} <= set(wuppertal.partners)
    areas = {f.id: f.sub_areas for f in version.focus_areas}
    assert set(areas) == {"e-government", "digitale-stadtentwicklung"}
    assert {"Smarte Mobilität", "Smart Home", "eHandel"} <= set(areas["digitale-stadtentwicklung"])
    (standards,) = [r for r in version.rules if r.id == "R-PROG-DMR-STANDARDS"]
    assert standards.describe()["required"] == (
        "it-standards",
        "portal-interop",
        "transferability",
        "ozg",
        "free-reuse",
    )
    assert standards.events == frozenset({Event.APPROVE})


def test_mpsc_calls_phases_rates_and_applicants() -> None:
    mpsc = load("smart-cities-mpsc")
    assert (mpsc.id, mpsc.short) == ("smart-cities-mpsc", "MPSC")
    version = mpsc.latest
    assert version.budget == Decimal("800000000.00")  # the conservative floor
    assert version.funds_until >= pendulum.Date(2025, 12, 31)
    third = version.call("staffel-3")
    assert third is not None
    assert (third.opens, third.closes, third.budget) == (
        pendulum.Date(2020, 12, 16),
        pendulum.Date(2021, 3, 14),
        Decimal("300000000.00"),
    )
    assert [c.id for c in version.calls] == ["staffel-1", "staffel-2", "staffel-3"]
    phases = {p.id: (p.max_amount, p.proof_months_after_notice) for p in version.phases}
    assert phases == {
        "strategy": (Decimal("2500000.00"), 30),
        "implementation": (Decimal("15000000.00"), 66),
    }
    (rate,) = [r for r in version.rules if r.id == "R-FUNDING-TYPE"]
    assert isinstance(rate, FundingRateRule)
    assert rate.default_rate == Decimal("0.65")
    assert dict(rate.attestation_rates) == {"haushaltsnotlage": Decimal("0.90")}
    names = {a.name for a in version.applicants}
    assert names == {
        "Stadt Beckum",
        "Stadt Billerbeck",
        "Stadt Drensteinfurt",
        "Stadt Siegen",
        "Stadt Unna",
        "Stadt Winterberg",
        "Stadt Iserlohn",
    }
    (resolution,) = [r for r in version.rules if r.id == "R-OWN-CONTRIBUTION"]
    assert resolution.describe()["required"] == ("council-resolution",)


def test_packaged_guidelines_mark_what_is_unverified() -> None:
    """Soft rules are few and deliberate; assumed rules carry a low or medium confidence."""
    for name in ("nrw-digitale-modellregionen", "smart-cities-mpsc"):
        for version in load(name).versions:
            for rule in version.rules:
                assert rule.confidence in {"H", "M", "L"}, (name, rule.id)
                assert rule.id.startswith("R-"), (name, rule.id)
                if rule.assumed:
                    assert rule.confidence in {"M", "L"}, (name, rule.id)
            soft = {r.id for r in version.rules if r.severity is Severity.SOFT}
            assert soft <= {"R-BAGATELLE", "R-EXTENSION", "R-PROOF-6M"}, (name, soft)
    assert builtin_path("smart-cities-mpsc").name == "smart-cities-mpsc.toml"


# ============================================================================================
# The rules page lists every rule of the packaged guidelines
# ============================================================================================

RULES_PAGE = Path(__file__).parents[2] / "docs" / "explanation" / "rules.md"


def rules_table() -> str:
    """The table of ``docs/explanation/rules.md``, generated from the packaged guidelines.

    Regenerate with ``python -c "from tests.guidelines.test_loader import rules_table as t;
    print(t())"``.
    """
    lines = [
        "| Program | Rule id | Kind | Events | Severity | Confidence | Assumed | Citation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("nrw-digitale-modellregionen", "smart-cities-mpsc"):
        program = load(name)
        for rule in program.latest.rules:
            events = ", ".join(e.value for e in Event if e in rule.events)
            assumed = "yes" if rule.assumed else "no"
            lines.append(
                f"| {program.short} | `{rule.id}` | `{rule.kind}` | {events} | {rule.severity} "
                f"| {rule.confidence} | {assumed} | {rule.citation} |"
            )
    return "\n".join(lines)


def test_the_rules_page_lists_every_rule_of_the_packaged_guidelines() -> None:
    for name in ("nrw-digitale-modellregionen", "smart-cities-mpsc"):
        first, *later = load(name).versions
        for version in later:  # one table is enough while versions keep the same rules
            assert [r.describe() for r in version.rules] == [r.describe() for r in first.rules]
    text = RULES_PAGE.read_text(encoding="utf-8")
    block = text[text.index("<!-- rules-table:start -->") : text.index("<!-- rules-table:end -->")]
    assert rules_table() in block, "regenerate the table with tests.guidelines.test_loader"


def test_the_reference_page_example_is_a_valid_guideline() -> None:
    page = RULES_PAGE.parents[1] / "reference" / "guideline-file.md"
    text = page.read_text(encoding="utf-8").split("## A complete example", 1)[1]
    example = text.split("```toml", 1)[1].split("```", 1)[0]
    program = load_text(example, source="guideline-file.md")
    assert program.id == "quartiere-digital"
    assert [r.kind for r in program.latest.rules] == [
        "funding-rate",
        "budget",
        "call-window",
        "minimum-amount",
        "annual-funds",
        "proof-deadline",
    ]
