"""The walking logic of ``audit verify`` on rows made in memory (no database): what it finds,
where it says it is, and that it keeps nothing of the rows it has passed."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grantflow.audit import chain, entries
from grantflow.audit.verify import ChainBroken, SealedCheckpoint, verify

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def records(grant_id: str, n: int, *, first_id: int = 1) -> list[dict[str, Any]]:
    """``n`` chained transition rows of one grant (typed values, as SQLAlchemy reads them)."""
    out: list[dict[str, Any]] = []
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        row = {
            "id": first_id + seq - 1,
            "grant_id": grant_id,
            "seq": seq,
            "event": "propose" if seq == 1 else "disburse",
            "from_state": None if seq == 1 else "running",
            "to_state": "proposed" if seq == 1 else "running",
            "business_date": dt.date(2021, 1, 1) + dt.timedelta(days=seq),
            "recorded_at": T0 + dt.timedelta(seconds=seq, microseconds=seq),
            "actor": "finn",
            "reason": f"Mittelabruf {seq} – Zahlung für § 44",
            "data": {"amount": f"{1000 * seq}.00", "n": seq},
            "verdicts": [{"rule_id": "GF-ROLE", "passed": True}],
            "guideline_id": "dmr",
            "guideline_version": "2018-07",
            "prev_hash": prev,
        }
        row["hash"] = prev = chain.digest_of(entries.transition_payload(row))
        out.append(row)
    return out


def refused(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = chain.GENESIS
    for rid in range(1, n + 1):
        row = {
            "id": rid,
            "grant_id": None if rid == 1 else "G-1",
            "event": "approve",
            "from_state": None,
            "business_date": "2021-02-01",  # raw SQLite text
            "recorded_at": "2026-03-02 10:00:00.000000",
            "actor": "clara",
            "reason": "",
            "data": {"x": rid},
            "verdicts": [],
            "rule_ids": ["GF-ROLE"],
            "code": "refused.rules",
            "message": "no",
            "guideline_id": "dmr",
            "guideline_version": None,
            "prev_hash": prev,
        }
        row["hash"] = prev = chain.digest_of(entries.refused_payload(row))
        out.append(row)
    return out


def checkpoint(
    cid: int, heads: list[list[Any]], refused_head: list[Any] | None, prev: str
) -> dict[str, Any]:
    row = {
        "id": cid,
        "created_at": T0,
        "created_by": "udo",
        "heads": heads,
        "refused_head": refused_head,
        "prev_hash": prev,
    }
    row["hash"] = chain.digest_of(entries.checkpoint_payload(row))
    return row


class Log:
    """A small log: grants G-1 (5 records) and G-2 (3), three refused attempts, a checkpoint."""

    def __init__(self) -> None:
        self.transitions = records("G-1", 5) + records("G-2", 3, first_id=6)
        self.grants: list[tuple[str, int | None, int | None]] = [("G-1", 5, 5), ("G-2", 3, 3)]
        self.refused = refused(3)
        heads = [["G-1", 5, self.transitions[4]["hash"]], ["G-2", 3, self.transitions[7]["hash"]]]
        self.checkpoints = [checkpoint(1, heads, [3, self.refused[2]["hash"]], chain.GENESIS)]

    def sealed(self) -> Iterator[SealedCheckpoint]:
        stored = {(r["grant_id"], r["seq"]): r["hash"] for r in self.transitions}
        refused_stored = {r["id"]: r["hash"] for r in self.refused}
        for cp in self.checkpoints:
            meta = {k: v for k, v in cp.items() if k != "heads"}
            heads = [(h, stored.get((h[0], h[1]))) for h in cp["heads"]]
            head = cp["refused_head"]
            yield SealedCheckpoint(meta, iter(heads), refused_stored.get(head[0]) if head else None)

    def verify(self, digest: str | None = None) -> Any:
        return verify(
            transitions=iter(self.transitions),
            grants=iter(self.grants),
            refused=iter(self.refused),
            checkpoints=self.sealed(),
            digest=digest,
        )

    def rehash(self, row: dict[str, Any]) -> None:
        row["hash"] = chain.digest_of(entries.transition_payload(row))


def test_an_intact_log() -> None:
    log = Log()
    digest = chain.format_digest(1, log.checkpoints[0]["hash"])
    report = log.verify(digest)
    assert report.intact, report.summary()
    assert report.summary() == (
        "intact: 8 transitions in 2 grants, 3 refused attempts, 1 checkpoint; contains "
        f"checkpoint {digest}"
    )
    assert report.newest_digest == digest
    report.raise_if_broken()


def first(report: Any) -> str:
    assert not report.intact
    return str(report.first)


def test_a_changed_field() -> None:
    log = Log()
    log.transitions[2]["data"] = {**log.transitions[2]["data"], "amount": "9.00"}
    assert first(log.verify()) == (
        "grant G-1 record 3 (t-3): its content does not match its hash: changed after writing"
    )
    with pytest.raises(ChainBroken, match="grant G-1 record 3"):
        log.verify().raise_if_broken()


def test_a_deleted_record() -> None:
    log = Log()
    del log.transitions[1:3]
    log.grants[0] = ("G-1", 5, 5)
    assert first(log.verify()).startswith("grant G-1 record 4 (t-4): records 2 to 3 are missing")


def test_an_inserted_record() -> None:
    log = Log()
    forged = {**log.transitions[1], "id": 99, "reason": "eingeschoben"}
    log.rehash(forged)  # a correct hash, chained to record 1
    for row in log.transitions[1:5]:
        row["seq"] += 1  # the real records 2..5 move up to make room
    log.transitions.insert(1, forged)
    report = log.verify()
    assert first(report) == (
        "grant G-1 record 2 (t-99): was inserted: it and the record after it both follow record 1"
    )


def test_swapped_records() -> None:
    log = Log()
    log.transitions[1]["id"], log.transitions[2]["id"] = 3, 2
    assert "stands before record 2 in the log" in first(log.verify())


def test_a_rewritten_chain_that_does_not_follow() -> None:
    log = Log()
    log.transitions[3]["prev_hash"] = "f" * 64
    log.rehash(log.transitions[3])
    assert first(log.verify()).startswith("grant G-1 record 4 (t-4): does not follow record 3")


def test_the_grants_row_must_be_at_the_newest_record() -> None:
    log = Log()
    log.grants = [("G-1", 6, 5), ("G-2", None, 3), ("G-3", 2, None)]
    problems = [str(p) for p in log.verify().problems]
    assert problems == [
        "grant G-1: the grants row is at version 6 but the newest record is 5: records were "
        "deleted, or the snapshot was changed",
        "grant G-2: has records (up to 3) but no grants row: it was deleted",
        "grant G-3: is at version 2 but has no records: they were deleted",
    ]


def test_a_broken_refused_chain() -> None:
    log = Log()
    log.refused[1]["actor"] = "ada"
    assert first(log.verify()).startswith("refused attempt 2 (r-2): its content")
    log = Log()
    del log.refused[1]
    assert first(log.verify()).startswith("refused attempt 3 (r-3): refused attempt 2 is missing")
    log = Log()
    del log.refused[2]  # the newest: only the checkpoint knows
    assert first(log.verify()).startswith("checkpoint 1 (c-1): sealed refused attempt 3")


def test_a_truncated_tail_and_the_digest() -> None:
    log = Log()
    digest = chain.format_digest(1, log.checkpoints[0]["hash"])
    del log.transitions[4]
    log.grants[0] = ("G-1", 4, 4)
    assert first(log.verify()) == (
        "checkpoint 1 (c-1): sealed grant G-1 record 5, which is no longer in the log: records "
        "were deleted after the checkpoint"
    )
    log.checkpoints = []
    assert log.verify().intact  # the log alone cannot tell
    assert first(log.verify(digest)).startswith(
        f"digest {digest}: the log does not contain checkpoint 1"
    )


def test_a_checkpoint_chain() -> None:
    log = Log()
    second = checkpoint(2, [], None, log.checkpoints[0]["hash"])
    log.checkpoints.append(second)
    assert log.verify(chain.format_digest(2, second["hash"])).intact
    log.checkpoints[0]["created_by"] = "mallory"
    report = log.verify()
    assert first(report).startswith("checkpoint 1 (c-1): its content does not match")
    log = Log()
    log.checkpoints.append(checkpoint(2, [], None, "e" * 64))
    assert first(log.verify()).startswith("checkpoint 2 (c-2): does not follow checkpoint 1")
    log = Log()
    wrong = chain.format_digest(1, "a" * 64)
    assert "is not the checkpoint the digest names" in first(log.verify(wrong))


def test_a_malformed_digest_is_refused() -> None:
    with pytest.raises(ValueError, match="not a grantflow digest"):
        Log().verify("gf1-x-123")


def test_problems_beyond_the_limit_are_counted() -> None:
    rows = records("G-1", 150)
    for row in rows:
        row["reason"] = "geändert"
    report = verify(
        transitions=rows, grants=[("G-1", 150, 150)], refused=[], checkpoints=[], limit=100
    )
    assert len(report.problems) == 100 and report.more_problems == 50
    assert report.summary().endswith("(and 149 more problems)")


def test_the_walk_keeps_nothing_of_the_rows_it_passed() -> None:
    """Memory stays flat: 3,000 records streamed through the verifier leave a peak of a few
    rows' worth of allocations, not 3,000 rows' worth (megabytes)."""

    def stream(n: int) -> Iterator[dict[str, Any]]:
        prev = chain.GENESIS
        for i in range(n):
            seq = i % 10 + 1
            if seq == 1:
                prev = chain.GENESIS
            row = {**TEMPLATE, "id": i + 1, "grant_id": f"G-{i // 10:05d}", "seq": seq}
            row["prev_hash"] = prev
            row["hash"] = prev = chain.digest_of(entries.transition_payload(row))
            yield row

    TEMPLATE = {k: v for k, v in records("G", 1)[0].items() if k not in ("id", "seq")}
    tracemalloc.start()
    try:
        report = verify(transitions=stream(3_000), grants=[], refused=[], checkpoints=[])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.intact and report.transitions == 3_000 and report.grants == 300
    assert peak < 200_000, peak


@settings(max_examples=60, deadline=None)
@given(
    heads=st.lists(
        st.tuples(
            st.text(min_size=1, max_size=12),
            st.integers(min_value=1, max_value=10**6),
            st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        ),
        max_size=20,
    ),
    refused_head=st.none() | st.tuples(st.integers(1, 10**6), st.just("a" * 64)),
    creator=st.text(min_size=1, max_size=20),
)
def test_a_checkpoint_hashed_while_its_heads_stream_is_the_same_hash(
    heads: list[tuple[str, int, str]], refused_head: tuple[int, str] | None, creator: str
) -> None:
    payload = chain.checkpoint_payload(
        checkpoint_id=7,
        created_at=chain.utc_iso(T0),
        created_by=creator,
        heads=heads,
        refused_head=refused_head,
        prev_hash="b" * 64,
    )
    meta = {
        "id": 7,
        "created_at": T0,
        "created_by": creator,
        "refused_head": payload["refused_head"],
        "prev_hash": "b" * 64,
    }
    hasher = entries.CheckpointHasher(meta)
    hasher.add_all(payload["heads"])
    assert hasher.hexdigest() == chain.digest_of(payload)


@settings(max_examples=100, deadline=None)
@given(
    moment=st.datetimes(
        min_value=dt.datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=dt.datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2))]),
    )
)
def test_a_recording_time_reads_the_same_typed_and_raw(moment: dt.datetime) -> None:
    """What SQLite stores (UTC text with microseconds) gives the string the writer hashed."""
    utc = moment.astimezone(dt.UTC)
    stored = utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert entries.time_text(stored) == entries.time_text(moment) == chain.utc_iso(moment)
    assert entries.time_text(moment).endswith("+00:00")
    assert entries.time_text(stored.replace(" ", "T")) == chain.utc_iso(moment)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    array=st.lists(json_values, max_size=12),
    ascii_only=st.booleans(),
    indent=st.none() | st.integers(0, 2),
    size=st.integers(1, 40),
)
def test_a_json_array_read_in_chunks_gives_its_elements(
    array: list[Any], ascii_only: bool, indent: int | None, size: int
) -> None:
    text = json.dumps(array, ensure_ascii=ascii_only, indent=indent).encode("utf-8")
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    assert list(entries.iter_json_array(chunks)) == array


@pytest.mark.parametrize(
    "text",
    [b"", b"{}", b'"[1]"', b"[1, 2", b"[1,]", b"[1 2]", b"[1] x", b'[["a", 1, "\xff"]]'],
)
def test_what_is_no_json_array_ends_in_malformed(text: bytes) -> None:
    found = list(entries.iter_json_array([text[:3], text[3:]]))
    assert found[-1] is entries.MALFORMED
