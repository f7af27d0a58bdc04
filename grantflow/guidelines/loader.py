"""Guideline files: one TOML file per funding program, read with :mod:`tomllib`.

A file has a ``[program]`` table and one or more ``[[versions]]``. The first version is complete;
each later version lists only what changed and inherits the rest (tables merge key by key;
regions, focus areas, calls, phases and applicants merge by ``id``/``name``; rules merge by
``id``, and ``enabled = false`` drops an inherited rule). Every version is validated on its own
and every problem is reported at once, each naming its key path, the value found and what was
expected. The reference is ``docs/reference/guideline-file.md``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import tomllib
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from grantflow import limits
from grantflow.domain.guideline import (
    Call,
    FocusArea,
    InterestStart,
    InterestTerms,
    InterimInterestTerms,
    KnownApplicant,
    Phase,
    Program,
    ProgramVersion,
    RefundInterestTerms,
    Region,
    _fold,
)
from grantflow.domain.interest import DayCount
from grantflow.domain.model import ApplicantKind, Event, FinancingType, Severity
from grantflow.domain.params import Reader
from grantflow.domain.refunds import DRAWDOWN_WINDOW_MONTHS
from grantflow.domain.rules import DrawdownWindowRule, Rule
from grantflow.errors import MISSING, GuidelineError, GuidelineProblem, NotFound
from grantflow.plugins import rule_kinds

SCHEMA = 1
BUILTIN = ("nrw-digitale-modellregionen", "smart-cities-mpsc")
"""Names of the guideline files that ship with grantflow (also their program ids)."""

_MERGE_KEYS = {
    "regions": "id",
    "focus_areas": "id",
    "calls": "id",
    "phases": "id",
    "applicants": "name",
    "rules": "id",
}
_KINDS = {k.value: k for k in ApplicantKind}
_SEVERITIES = {s.value: s for s in Severity}
_EVENTS = {e.value: e for e in Event}
_FINANCING = {f.value: f for f in FinancingType}
_DAY_COUNTS = {d.value: d for d in DayCount}
_REFUND_STARTS = {s.value: s for s in InterestStart}
_INTERIM_STARTS = {s.value: s for s in (InterestStart.PAYOUT, InterestStart.DAY_AFTER_PAYOUT)}
_CONFIDENCE = {"H": "H", "M": "M", "L": "L"}


def builtin_path(name: str) -> Path:
    """The path of a packaged guideline file."""
    if name not in BUILTIN:
        raise NotFound(f"there is no packaged guideline {name!r}; packaged: {', '.join(BUILTIN)}")
    ref = resources.files("grantflow.guidelines.builtin").joinpath(f"{name}.toml")
    with resources.as_file(ref) as p:
        return Path(p)


def load(name_or_path: str | Path) -> Program:
    """Load a packaged guideline by name, or a guideline file by path."""
    if isinstance(name_or_path, str) and name_or_path in BUILTIN:
        return load_file(builtin_path(name_or_path))
    path = Path(name_or_path)
    if not path.exists():
        raise NotFound(
            f"{str(name_or_path)!r} is neither a packaged guideline "
            f"({', '.join(BUILTIN)}) nor an existing file"
        )
    return load_file(path)


def load_file(path: Path) -> Program:
    try:
        size = path.stat().st_size
    except (OSError, ValueError) as exc:
        raise GuidelineError(
            str(path), [GuidelineProblem("(file)", str(exc), "a readable UTF-8 TOML file")]
        ) from None
    if size > limits.GUIDELINE_BYTES_MAX:
        raise GuidelineError(str(path), [_too_big(size)])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuidelineError(
            str(path), [GuidelineProblem("(file)", str(exc), "a readable UTF-8 TOML file")]
        ) from None
    return load_text(text, source=str(path))


def load_text(text: str, source: str = "<text>") -> Program:
    """Parse and validate a guideline document. Raises :class:`GuidelineError`."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.GUIDELINE_BYTES_MAX:
        raise GuidelineError(source, [_too_big(size)])
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GuidelineError(source, [GuidelineProblem("(file)", str(exc), "valid TOML")]) from None
    except RecursionError:
        raise GuidelineError(
            source,
            [
                GuidelineProblem(
                    "(file)",
                    "tables or arrays nested hundreds deep",
                    f"tables and arrays nested at most {limits.GUIDELINE_DEPTH_MAX} deep",
                )
            ],
        ) from None
    return program_from_document(doc, source)


def _too_big(size: int) -> GuidelineProblem:
    return GuidelineProblem(
        "(file)",
        f"{size:,} bytes",
        f"a guideline file of at most {limits.GUIDELINE_BYTES_MAX:,} bytes",
    )


_BIG_INTEGER = 10**15
"""Whole numbers in a guideline file stay below this (amounts as integers included)."""


def _document_problems(doc: Mapping[str, Any]) -> list[GuidelineProblem]:
    """What no guideline file may hold, wherever it is (grantflow.limits): nesting deeper than
    GUIDELINE_DEPTH_MAX, text with control characters (line breaks aside) or longer than
    TEXT_MAX, digits other than ASCII 0-9, whole numbers of 16 digits or more, dates outside
    the business dates. Walked without recursion, so any document can be looked at."""
    problems: list[GuidelineProblem] = []
    stack: list[tuple[str, object, int]] = [("", doc, 0)]
    while stack and len(problems) < 20:
        path, value, depth = stack.pop()
        where = path or "(file)"
        if isinstance(value, Mapping | list):
            if depth >= limits.GUIDELINE_DEPTH_MAX:
                problems.append(
                    GuidelineProblem(
                        where,
                        "a table or array nested deeper",
                        f"tables and arrays nested at most {limits.GUIDELINE_DEPTH_MAX} deep",
                    )
                )
                continue
            pairs = (
                list(value.items())
                if isinstance(value, Mapping)
                else [(f"[{i}]", v) for i, v in enumerate(value)]
            )
            for raw_key, item in reversed(pairs):
                key = str(raw_key)
                if isinstance(value, Mapping):
                    problem = limits.text_problem(key, limits.ID)
                    if problem or limits.non_ascii_digit(key):
                        problems.append(
                            GuidelineProblem(
                                f"{path}.{limits.shorten(key, 40)!r}" if path else "(key)",
                                limits.shorten(key),
                                "a key of plain ASCII letters, digits, - and _",
                            )
                        )
                        continue
                    child = f"{path}.{key}" if path else key
                else:
                    child = f"{path}{key}"
                stack.append((child, item, depth + 1))
        elif isinstance(value, str):
            problem = limits.text_problem(value, limits.TEXT)
            if problem:
                problems.append(
                    GuidelineProblem(where, limits.shorten(value), f"text that {_not(problem)}")
                )
            elif limits.non_ascii_digit(value) is not None:
                problems.append(
                    GuidelineProblem(
                        where, limits.shorten(value), "digits written as ASCII 0-9 (no guessing)"
                    )
                )
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIG_INTEGER:
            problems.append(
                GuidelineProblem(
                    where, limits.shorten(value), "a whole number of at most 15 digits"
                )
            )
        elif isinstance(value, dt.date | dt.datetime) and limits.date_problem(value) is not None:
            problems.append(
                GuidelineProblem(
                    where,
                    value.isoformat(),
                    f"a date from {limits.DATE_MIN.isoformat()} to {limits.DATE_MAX.isoformat()}",
                )
            )
    return problems


def _not(problem: str) -> str:
    """``is 12,000 characters long; a text has at most 10,000`` -> what text must be."""
    if problem.startswith("is "):
        return f"has at most {limits.TEXT_MAX:,} characters"
    return "holds no control characters (line breaks aside)"


def _field_limits(program: Program, path_of: Mapping[str, str]) -> list[GuidelineProblem]:
    """The lengths and characters of a loaded program's ids, names and titles, and the
    range of its dates and amounts (grantflow.limits): what the database columns hold."""
    problems: list[GuidelineProblem] = []

    def text(path: str, value: str, kind: str) -> None:
        problem = limits.text_problem(value, kind)
        if problem:
            problems.append(GuidelineProblem(path, limits.shorten(value), _EXPECTED[kind]))

    def day(path: str, value: dt.date) -> None:
        if limits.date_problem(value) is not None:
            problems.append(
                GuidelineProblem(
                    path,
                    value.isoformat(),
                    f"a date from {limits.DATE_MIN.isoformat()} to {limits.DATE_MAX.isoformat()}",
                )
            )

    text("program.id", program.id, limits.ID)
    text("program.name", program.name, limits.NAME)
    if len(program.short) > 20:
        problems.append(
            GuidelineProblem("program.short", program.short, "a prefix of at most 20 characters")
        )
    for v in program.versions:
        at = path_of.get(v.version, "versions")
        text(f"{at}.version", v.version, limits.ID)
        text(f"{at}.title", v.title, limits.TITLE)
        day(f"{at}.effective_from", v.effective_from)
        day(f"{at}.funds_from", v.funds_from)
        day(f"{at}.funds_until", v.funds_until)
        for i, r in enumerate(v.regions):
            text(f"{at}.regions[{i}].id", r.id, limits.ID)
            text(f"{at}.regions[{i}].lead", r.lead, limits.NAME)
            for partner in r.partners:
                text(f"{at}.regions[{i}].partners", partner, limits.NAME)
        for i, f in enumerate(v.focus_areas):
            text(f"{at}.focus_areas[{i}].id", f.id, limits.ID)
        for i, c in enumerate(v.calls):
            text(f"{at}.calls[{i}].id", c.id, limits.ID)
            day(f"{at}.calls[{i}].opens", c.opens)
            day(f"{at}.calls[{i}].closes", c.closes)
        for i, p in enumerate(v.phases):
            text(f"{at}.phases[{i}].id", p.id, limits.ID)
        for i, a in enumerate(v.applicants):
            text(f"{at}.applicants[{i}].name", a.name, limits.NAME)
        for i, rule in enumerate(v.rules):
            text(f"{at}.rules[{i}].id", rule.id, limits.ID)
    return problems


_EXPECTED = {
    limits.ID: f"an id of at most {limits.ID_MAX} printable characters on one line",
    limits.NAME: f"a name of at most {limits.NAME_MAX} printable characters on one line",
    limits.TITLE: f"a title of at most {limits.TITLE_MAX:,} printable characters on one line",
}


def program_from_document(doc: Mapping[str, Any], source: str) -> Program:
    problems = _document_problems(doc)
    if problems:  # before anything reads it: the rest assumes a document within the limits
        raise GuidelineError(source, problems)
    top = Reader(doc, "", problems)
    schema = top.integer("schema", minimum=1)
    if schema is not None and schema != SCHEMA:
        top.problem("schema", schema, f"schema version {SCHEMA}")
    prog = top.sub("program")
    program_id = program_name = short = None
    if prog is not None:
        program_id = prog.text("id")
        program_name = prog.text("name")
        short = prog.text("short")
        if short and not (short.isascii() and short.replace("-", "").isalnum()):
            prog.problem("short", short, "a short ASCII prefix for grant ids such as DMR")
        prog.text("authority", required=False)
        prog.text("source", required=False)
        prog.unknown_keys()
    raw_versions = doc.get("versions")
    top._seen.add("versions")
    top.unknown_keys()
    if not isinstance(raw_versions, list) or not raw_versions:
        problems.append(
            GuidelineProblem(
                "versions",
                raw_versions if "versions" in doc else _missing(),
                "at least one [[versions]] table",
            )
        )
        raise GuidelineError(source, problems)
    versions: list[ProgramVersion] = []
    resolved: dict[str, Any] = {}
    seen_ids: set[str] = set()
    last_from: dt.date | None = None
    for i, raw in enumerate(raw_versions):
        path = f"versions[{i}]"
        if not isinstance(raw, Mapping):
            problems.append(GuidelineProblem(path, raw, "a table"))
            continue
        if i > 0:
            _layer_duplicates(raw, path, problems)
        resolved = _merge(resolved, raw)
        version = parse_version(
            resolved, program_id or "?", program_name or "?", path, problems, layer=raw
        )
        if version is None:
            continue
        if version.version in seen_ids:
            problems.append(
                GuidelineProblem(f"{path}.version", version.version, "a version id used once")
            )
        seen_ids.add(version.version)
        if last_from is not None and version.effective_from <= last_from:
            problems.append(
                GuidelineProblem(
                    f"{path}.effective_from",
                    version.effective_from.isoformat(),
                    f"a date after the previous version's {last_from.isoformat()}",
                )
            )
        last_from = version.effective_from
        versions.append(version)
    if problems:
        raise GuidelineError(source, problems)
    assert program_id is not None and program_name is not None
    return _within_limits(
        Program(
            id=program_id, name=program_name, versions=tuple(versions), short=short or program_id
        ),
        source,
    )


def _within_limits(program: Program, source: str) -> Program:
    """``program`` if its ids, names, titles and dates are within grantflow.limits."""
    at = {v.version: f"versions[{i}]" for i, v in enumerate(program.versions)}
    problems = _field_limits(program, at)
    if problems:
        raise GuidelineError(source, problems)
    return program


def _missing() -> object:
    from grantflow.errors import MISSING

    return MISSING


def _merge(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in layer.items():
        if key in _MERGE_KEYS and isinstance(value, list) and isinstance(out.get(key), list):
            ident = _MERGE_KEYS[key]
            items = {str(x.get(ident)): x for x in out[key] if isinstance(x, Mapping)}
            order = list(items)
            for item in value:
                k = str(item.get(ident)) if isinstance(item, Mapping) else repr(item)
                if isinstance(item, Mapping) and item.get("enabled") is False:
                    items.pop(k, None)
                    order = [o for o in order if o != k]
                    continue
                if k in items and isinstance(item, Mapping):
                    items[k] = _merge(items[k], item)
                else:
                    items[k] = copy.deepcopy(item)
                    order.append(k)
            out[key] = [items[k] for k in order]
        elif key == "notes" and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = [*out[key], *value]  # a later version's notes add to the earlier ones
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _layer_duplicates(
    layer: Mapping[str, Any], path: str, problems: list[GuidelineProblem]
) -> None:
    """Entries a later version lists twice under one id: merging by id would silently fold them
    into one, so they are reported here (the first version's are reported by parse_version)."""
    for key, ident in _MERGE_KEYS.items():
        items = layer.get(key)
        if not isinstance(items, list):
            continue
        seen: set[str] = set()
        for j, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get(ident), str):
                continue
            value = item[ident]
            folded = _fold(value) if key == "applicants" else value
            if folded in seen:
                problems.append(
                    GuidelineProblem(
                        f"{path}.{key}[{j}].{ident}",
                        value,
                        f"each {ident} only once in this version's {key}",
                    )
                )
            seen.add(folded)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def document_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a resolved version: equal content, equal hash."""
    canonical = json.dumps(
        _jsonable(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_version(
    raw: Mapping[str, Any],
    program_id: str,
    program_name: str,
    path: str,
    problems: list[GuidelineProblem],
    *,
    layer: Mapping[str, Any] | None = None,
) -> ProgramVersion | None:
    """Validate one resolved version table; problems are appended, ``None`` if any."""
    before = len(problems)
    r = Reader(raw, path, problems)
    version = r.text("version")
    effective_from = r.date("effective_from")
    title = r.text("title")
    source = r.text("source")
    budget = r.amount("budget")
    funds_from = r.date("funds_from")
    funds_until = r.date("funds_until")
    currency = r.text("currency", required=False) or "EUR"
    if currency != "EUR":
        r.problem("currency", currency, "EUR (the only currency grantflow supports)")
    financing = r.choice("default_financing_type", _FINANCING, required=False)
    binding = r.integer(
        "purpose_binding_years", required=False, minimum=1, maximum=limits.YEARS_MAX
    )
    notes = r.text_list("notes") or ()
    if funds_from and funds_until and funds_until < funds_from:
        r.problem(
            "funds_until",
            funds_until.isoformat(),
            f"a date on or after funds_from {funds_from.isoformat()}",
        )
    if budget is not None and budget <= 0:
        r.problem("budget", str(budget), "a budget of more than zero")
    region_items = [_region(x) for x in r.items("regions")]
    regions = _unique(r, "regions", region_items)
    focus = _unique(r, "focus_areas", [_focus(x) for x in r.items("focus_areas")])
    calls = _unique(r, "calls", [_call(x) for x in r.items("calls")])
    phases = _unique(r, "phases", [_phase(x) for x in r.items("phases")])
    applicant_items = list(r.items("applicants"))
    applicants = [_applicant(x, {g.id for g in regions}) for x in applicant_items]
    known = [a for a in applicants if a is not None]
    _check_unique_names(r, known)
    # every named entry counts, so an entry with another mistake (its kind, its region) does
    # not also make its region's lead or partner look unlisted
    names = {
        _fold(x.table["name"]) for x in applicant_items if isinstance(x.table.get("name"), str)
    }
    for i, reg in enumerate(region_items):
        if reg is None:
            continue
        for field, people in (("lead", (reg.lead,)), ("partners", reg.partners)):
            for who in people:
                if _fold(who) not in names:
                    r.problem(
                        f"regions[{i}].{field}",
                        who,
                        "every lead and partner of a region listed in [[versions.applicants]] "
                        "with its kind",
                    )
    rules = _rules(r)
    interest = _interest(r, rules)
    r.unknown_keys()
    if len(problems) > before or interest is None:
        return None
    assert version and effective_from and title and source and budget is not None
    assert funds_from and funds_until
    return ProgramVersion(
        program_id=program_id,
        program_name=program_name,
        version=version,
        effective_from=effective_from,
        title=title,
        source=source,
        budget=budget,
        funds_from=funds_from,
        funds_until=funds_until,
        currency=currency,
        default_financing_type=financing or FinancingType.SHARE,
        purpose_binding_years=binding,
        regions=tuple(regions),
        focus_areas=tuple(focus),
        calls=tuple(calls),
        phases=tuple(phases),
        applicants=tuple(known),
        rules=tuple(rules),
        interest=interest,
        notes=notes,
        document=_jsonable(raw),
        content_hash=document_hash(raw),
    )


def _unique(r: Reader, key: str, items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if item is None:
            continue
        if item.id in seen:
            r.problem(f"{key}[{i}].id", item.id, f"an id not used by another entry of {key}")
        seen.add(item.id)
        out.append(item)
    return out


def _check_unique_names(r: Reader, applicants: list[KnownApplicant]) -> None:
    seen: set[str] = set()
    for i, a in enumerate(applicants):
        key = _fold(a.name)
        if key in seen:
            r.problem(f"applicants[{i}].name", a.name, "a name listed once")
        seen.add(key)


def _region(r: Reader) -> Region | None:
    rid, name, lead = r.text("id"), r.text("name"), r.text("lead")
    partners = r.text_list("partners") or ()
    envelope = r.amount("envelope", required=False)
    r.boolean("envelope_assumed")
    r.text("note", required=False)
    r.unknown_keys()
    if not (rid and name and lead):
        return None
    return Region(id=rid, name=name, lead=lead, partners=partners, envelope=envelope)


def _focus(r: Reader) -> FocusArea | None:
    fid, name = r.text("id"), r.text("name")
    subs = r.text_list("sub_areas") or ()
    r.unknown_keys()
    return FocusArea(id=fid, name=name, sub_areas=subs) if fid and name else None


def _call(r: Reader) -> Call | None:
    cid, name = r.text("id"), r.text("name")
    opens, closes = r.date("opens"), r.date("closes")
    budget = r.amount("budget", required=False)
    r.boolean("assumed")
    r.text("note", required=False)
    r.unknown_keys()
    if opens and closes and closes < opens:
        r.problem("closes", closes.isoformat(), f"a date on or after opens {opens.isoformat()}")
        return None
    if not (cid and name and opens and closes):
        return None
    return Call(id=cid, name=name, opens=opens, closes=closes, budget=budget)


def _phase(r: Reader) -> Phase | None:
    pid, name = r.text("id"), r.text("name")
    max_amount = r.amount("max_amount", required=False)
    months = r.integer("proof_months_after_notice", required=False, minimum=1)
    r.boolean("assumed")
    r.text("note", required=False)
    r.unknown_keys()
    if not (pid and name):
        return None
    return Phase(id=pid, name=name, max_amount=max_amount, proof_months_after_notice=months)


def _applicant(r: Reader, region_ids: set[str]) -> KnownApplicant | None:
    name = r.text("name")
    kind = r.choice("kind", _KINDS)
    region = r.text("region", required=False)
    r.text("note", required=False)
    r.unknown_keys()
    if region is not None and region not in region_ids:
        r.problem("region", region, "the id of a region of this version")
        return None
    if not (name and kind):
        return None
    return KnownApplicant(name=name, kind=kind, region=region)


def _rules(r: Reader) -> list[Rule]:
    kinds = rule_kinds()
    rules: list[Rule] = []
    ids: set[str] = set()
    for item in r.items("rules"):
        rid = item.text("id")
        kind_name = item.text("kind")
        citation = item.text("citation")
        severity = item.choice("severity", _SEVERITIES, required=False)
        confidence = item.choice("confidence", {"H": "H", "M": "M", "L": "L"}, required=False)
        assumed = item.boolean("assumed")
        note = item.text("note", required=False)
        enabled = item.boolean("enabled")
        raw_events = item.text_list("events")
        events: list[Event] = []
        for e in raw_events or ():
            if e not in _EVENTS:
                item.problem("events", e, "event names: " + ", ".join(_EVENTS))
            else:
                events.append(_EVENTS[e])
        if rid and rid in ids:
            item.problem("id", rid, "a rule id used once per version")
        if rid:
            ids.add(rid)
        if rid and rid.startswith("GF-"):
            item.problem("id", rid, "a catalog id (R-...); GF- ids are grantflow's core rules")
        kind_cls = kinds.get(kind_name or "")
        if kind_name and kind_cls is None:
            item.problem("kind", kind_name, "a rule kind: " + ", ".join(sorted(kinds)))
        params = item.sub("params", required=False) or Reader(
            {}, f"{item.path}.params", item.problems
        )
        item.unknown_keys()
        if kind_cls is None or not (rid and citation):
            continue
        common = {
            "id": rid,
            "citation": citation,
            "severity": severity or kind_cls.default_severity,
            "events": frozenset(events) if raw_events else kind_cls.default_events,
            "confidence": confidence,
            "assumed": bool(assumed),
            "note": note,
        }
        rule = kind_cls.build(common, params)
        if rule is not None and enabled is not False:  # a switched-off rule is still validated
            rules.append(rule)
    return rules


def _margin(r: Reader) -> Decimal | None:
    """``margin_points``: percentage points above the base rate, "5" or 5 (``None``: absent or
    not valid, which is then a problem)."""
    expected = (
        "percentage points above the base rate, 0 to 100 with at most two decimals, as a "
        'string such as "5"'
    )
    raw = r._get("margin_points", False, expected)
    if raw is MISSING:
        return None
    value = None
    if isinstance(raw, str | int) and not isinstance(raw, bool):
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite() or not 0 <= value <= 100 or value != round(value, 2):
        r.problem("margin_points", raw, expected)
        return None
    return value


def _interest_common(r: Reader, default_id: str) -> dict[str, Any] | None:
    """The fields both interest tables have; ``None`` if the id is not a catalog id."""
    rule_id = r.text("id", required=False) or default_id
    if not rule_id.startswith("R-"):
        r.problem("id", rule_id, "a catalog id (R-...) such as " + default_id)
        return None
    citation = r.text("citation")
    values = {
        "rule_id": rule_id,
        "citation": citation,
        "confidence": r.choice("confidence", _CONFIDENCE, required=False),
        "assumed": bool(r.boolean("assumed")),
        "note": r.text("note", required=False),
    }
    return values if citation else None


def _interest(r: Reader, rules: list[Rule]) -> InterestTerms | None:
    """``[versions.interest]``: refund and interim interest parameters (statutory defaults)."""
    window_rule = next((x for x in rules if isinstance(x, DrawdownWindowRule)), None)
    window = window_rule.months if window_rule else DRAWDOWN_WINDOW_MONTHS
    table = r.sub("interest", required=False)
    if table is None:
        if r.has("interest"):
            return None  # not a table: reported by sub()
        return InterestTerms(interim=InterimInterestTerms(window_months=window))
    before = len(r.problems)
    day_count = table.choice("day_count", _DAY_COUNTS, required=False) or DayCount.ACT_365
    day_count_assumed = bool(table.boolean("day_count_assumed"))
    table.text("note", required=False)
    refund = RefundInterestTerms()
    sub = table.sub("refund", required=False)
    if sub is not None:
        common = _interest_common(sub, "R-REFUND-INTEREST")
        margin = _margin(sub)
        starts = sub.choice("starts", _REFUND_STARTS, required=False)
        sub.unknown_keys()
        if common is not None:
            refund = RefundInterestTerms(
                **common,
                margin=margin if margin is not None else refund.margin,
                starts=starts or refund.starts,
            )
    interim = InterimInterestTerms(window_months=window)
    sub = table.sub("interim", required=False)
    if sub is not None:
        common = _interest_common(sub, "R-INTERIM-INTEREST")
        margin = _margin(sub)
        starts = sub.choice("starts", _INTERIM_STARTS, required=False)
        months = sub.integer("window_months", required=False, minimum=1)
        if months is not None and window_rule is not None and months != window_rule.months:
            sub.problem(
                "window_months",
                months,
                f"the drawdown window of rule {window_rule.id} ({window_rule.months} months): "
                f"money counts as used late after the window it was drawn for",
            )
        sub.unknown_keys()
        if common is not None:
            interim = InterimInterestTerms(
                **common,
                margin=margin if margin is not None else interim.margin,
                window_months=months or window,
                starts=starts or interim.starts,
            )
    table.unknown_keys()
    if len(r.problems) > before:
        return None
    return InterestTerms(
        day_count=day_count,
        day_count_assumed=day_count_assumed,
        refund=refund,
        interim=interim,
        declared=True,
    )


def version_from_document(
    document: Mapping[str, Any], program_id: str, program_name: str
) -> ProgramVersion:
    """Rebuild a stored version (its resolved document) into a :class:`ProgramVersion`."""
    problems: list[GuidelineProblem] = []
    v = parse_version(document, program_id, program_name, "version", problems)
    if v is None:
        raise GuidelineError(f"stored version of {program_id}", problems)
    return v


__all__ = [
    "BUILTIN",
    "builtin_path",
    "document_hash",
    "load",
    "load_file",
    "load_text",
    "program_from_document",
    "version_from_document",
]
