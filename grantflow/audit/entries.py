"""Log entries as the chains hash them: from stored column values to payloads and export lines.

The writer (when it inserts a row), ``grantflow audit verify`` (when it reads the rows back) and
the JSON lines export all build an entry's payload here, from the row's column values, so what
is hashed, what is stored and what is exported cannot drift apart.

Column values come in two shapes, and both give the same payload:

* typed, as SQLAlchemy's column types return them (or as the writer holds them): business dates
  as ``date``, recording times as timezone-aware ``datetime``, JSON columns parsed;
* raw, as the database driver returns them when the column types are skipped (the fast path of
  verification): on SQLite dates and times are the stored text (``2021-12-31``,
  ``2026-11-23 16:24:27.123456``, always UTC), JSON columns are text and are parsed here.

An export line is the payload plus ``hash`` and ``log_id`` (``t-<id>``, ``r-<id>``, ``c-<id>``:
the row's id in its table, not hashed) -- exactly what ``docs/verify_log.py`` reads.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from grantflow.audit import chain

NOT_HASHED = ("hash", "log_id")
"""Keys of an export line that the hash does not cover (the same tuple as in
``docs/verify_log.py``)."""


def day_text(value: dt.date | str) -> str:
    """A business date as hashed: ISO 8601 (SQLite's stored text already is)."""
    if isinstance(value, str):
        return value
    return value.isoformat()


def time_text(value: dt.datetime | str) -> str:
    """A recording time as hashed (:func:`~grantflow.audit.chain.utc_iso`), from a timezone-aware
    ``datetime`` or SQLite's stored UTC text ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}+00:00"
        parsed = dt.datetime.fromisoformat(value)  # another form: what the typed read would give
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return chain.utc_iso(parsed)
    return chain.utc_iso(value)


def json_value(value: Any, *, text: bool) -> Any:
    """A JSON column's value: parsed from ``text`` columns (raw SQLite), as it is otherwise.
    Text that is not JSON is returned unparsed (its hash will not match: it was changed)."""
    if not text or value is None:
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def transition_payload(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What the hash of a ``transitions`` row covers (``prev_hash`` included)."""
    return chain.transition_payload(
        grant_id=row["grant_id"],
        seq=row["seq"],
        event=row["event"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        business_date=day_text(row["business_date"]),
        recorded_at=time_text(row["recorded_at"]),
        actor=row["actor"],
        reason=row["reason"],
        data=row["data"],
        verdicts=row["verdicts"],
        guideline_id=row["guideline_id"],
        guideline_version=row["guideline_version"],
        prev_hash=row["prev_hash"],
        state_hash=row.get("state_hash"),
        actor_auth=row.get("actor_auth"),
        guideline_hash=row.get("guideline_hash"),
    )


def refused_payload(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What the hash of a ``refused_attempts`` row covers; ``id`` is its place in the chain."""
    return chain.refused_payload(
        refused_id=row["id"],
        grant_id=row["grant_id"],
        event=row["event"],
        from_state=row["from_state"],
        business_date=day_text(row["business_date"]),
        recorded_at=time_text(row["recorded_at"]),
        actor=row["actor"],
        reason=row["reason"],
        data=row["data"],
        verdicts=row["verdicts"],
        rule_ids=list(row["rule_ids"] or ()),
        code=row["code"],
        message=row["message"],
        guideline_id=row["guideline_id"],
        guideline_version=row["guideline_version"],
        prev_hash=row["prev_hash"],
        actor_auth=row.get("actor_auth"),
        guideline_hash=row.get("guideline_hash"),
    )


def admin_payload(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What the hash of an ``admin_events`` row covers; ``id`` is its place in the chain."""
    return chain.admin_payload(
        admin_id=row["id"],
        recorded_at=time_text(row["recorded_at"]),
        actor=row["actor"],
        actor_auth=row["actor_auth"],
        action=row["action"],
        subject=row["subject"],
        data=row["data"],
        prev_hash=row["prev_hash"],
    )


def checkpoint_payload(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What the hash of an ``audit_checkpoints`` row covers, heads in their stored order."""
    payload = {
        "kind": chain.CHECKPOINT,
        "checkpoint_id": row["id"],
        "created_at": time_text(row["created_at"]),
        "created_by": row["created_by"],
        "heads": row["heads"],
        "refused_head": row["refused_head"],
        "prev_hash": row["prev_hash"],
    }
    if row.get("admin_head") is not None:
        payload["admin_head"] = row["admin_head"]
    return payload


def transition_line(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A ``transitions`` row as a line of the JSON lines export."""
    return {**transition_payload(row), "hash": row["hash"], "log_id": f"t-{row['id']}"}


def refused_line(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A ``refused_attempts`` row as a line of the JSON lines export."""
    return {**refused_payload(row), "hash": row["hash"], "log_id": f"r-{row['id']}"}


def admin_line(row: Mapping[Any, Any]) -> dict[str, Any]:
    """An ``admin_events`` row as a line of the JSON lines export."""
    return {**admin_payload(row), "hash": row["hash"], "log_id": f"a-{row['id']}"}


def checkpoint_line(row: Mapping[Any, Any]) -> dict[str, Any]:
    """An ``audit_checkpoints`` row as a line of the JSON lines export."""
    return {**checkpoint_payload(row), "hash": row["hash"], "log_id": f"c-{row['id']}"}


def line_hash(line: Mapping[str, Any]) -> str:
    """The hash an export line's fields give (what ``docs/verify_log.py`` recomputes)."""
    return chain.digest_of({k: v for k, v in line.items() if k not in NOT_HASHED})


def _dumps(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


class CheckpointHasher:
    """The hash of a checkpoint computed while its heads stream past, one at a time.

    Gives the same hash as :func:`~grantflow.audit.chain.digest_of` over
    :func:`checkpoint_payload` (the canonical bytes of an object with sorted keys are its
    members in key order, and ``heads`` is the fourth of seven), without holding the heads in
    memory: a checkpoint seals one head per grant.
    """

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self._sha = hashlib.sha256()
        self._first = True
        admin = meta.get("admin_head")
        opening = b"{" if admin is None else b'{"admin_head":' + _dumps(admin) + b","
        self._tail = (
            b'],"kind":'
            + _dumps(chain.CHECKPOINT)
            + b',"prev_hash":'
            + _dumps(meta["prev_hash"])
            + b',"refused_head":'
            + _dumps(meta["refused_head"])
            + b"}"
        )
        self._sha.update(
            opening
            + b'"checkpoint_id":'
            + _dumps(meta["id"])
            + b',"created_at":'
            + _dumps(time_text(meta["created_at"]))
            + b',"created_by":'
            + _dumps(meta["created_by"])
            + b',"heads":['
        )

    def add(self, head: Any) -> None:
        """The next head, in stored order."""
        self._sha.update(_dumps(head) if self._first else b"," + _dumps(head))
        self._first = False

    def add_all(self, heads: Iterable[Any]) -> None:
        for head in heads:
            self.add(head)

    def hexdigest(self) -> str:
        """The checkpoint's hash (call once, after the last head)."""
        self._sha.update(self._tail)
        return self._sha.hexdigest()


class Malformed:
    """Stands where a stored JSON array stops being one. It is no JSON value, so the hash of
    the entry that holds it cannot match."""

    def __repr__(self) -> str:
        return "<not JSON>"


MALFORMED = Malformed()
_SPACE = " \t\n\r"


def iter_json_array(chunks: Iterable[bytes]) -> Iterator[Any]:
    """The elements of a JSON array (UTF-8) that arrives in ``chunks``, one at a time, as
    ``json.loads`` of the whole text would give them; holds one chunk and one element, however
    long the array. Where the text is not a JSON array it yields :data:`MALFORMED` and stops."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    source = iter(chunks)
    buf, pos, done = "", 0, False
    state = "start"  # then "first" (an element or "]"), "next" (an element), "after", "end"

    def more() -> bool:
        nonlocal buf, pos, done
        if done:
            return False
        chunk = next(source, None)
        done = chunk is None
        buf, pos = buf[pos:] + utf8.decode(chunk or b"", final=done), 0
        return True

    try:
        while True:
            while pos < len(buf) and buf[pos] in _SPACE:
                pos += 1
            if pos >= len(buf):
                if more():
                    continue
                if state != "end":
                    yield MALFORMED
                return
            c = buf[pos]
            if state == "start":
                if c != "[":
                    yield MALFORMED
                    return
                pos, state = pos + 1, "first"
            elif state in ("first", "next"):
                if c == "]" and state == "first":
                    pos, state = pos + 1, "end"
                    continue
                try:
                    value, end = decoder.raw_decode(buf, pos)
                except ValueError:
                    if more():
                        continue  # the element goes on in the next chunk
                    yield MALFORMED
                    return
                if end >= len(buf) and more():
                    continue  # a number at the end of a chunk may go on in the next
                yield value
                pos, state = end, "after"
            elif state == "after" and c in ",]":
                pos, state = pos + 1, ("next" if c == "," else "end")
            else:  # something after an element, or after the closing bracket
                yield MALFORMED
                return
    except UnicodeDecodeError:
        yield MALFORMED


__all__ = [
    "MALFORMED",
    "NOT_HASHED",
    "CheckpointHasher",
    "admin_line",
    "admin_payload",
    "checkpoint_line",
    "checkpoint_payload",
    "day_text",
    "iter_json_array",
    "json_value",
    "line_hash",
    "refused_line",
    "refused_payload",
    "time_text",
    "transition_line",
    "transition_payload",
]
