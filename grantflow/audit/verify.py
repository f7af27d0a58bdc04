"""Walking the log and checking every chain: what ``grantflow audit verify`` does.

:func:`verify` takes the stored rows as iterators and keeps only the head of the chain it is
walking, so memory stays flat however long the log is:

* ``transitions`` in grant and ``seq`` order. Every record's hash must match its content (a
  **changed field**), the records of a grant must run ``seq`` 1, 2, 3, … (a **deleted**
  record), each must name its predecessor's hash (an **inserted** or replaced record) and come
  after it in the log's global order (**swapped** records);
* ``grants``: ``(grant id, version of its grants row, seq of its newest record)``: the snapshot's
  version must be its newest record's ``seq``;
* ``refused`` attempts in ``id`` order, chained the same way;
* ``checkpoints`` in ``id`` order: each hashed while its heads stream past, chained, and every
  head it sealed still in the log with the same hash (a **truncated tail**, a deleted grant);
* with a ``digest``: the log still holds the checkpoint the digest names, with that hash.

:class:`grantflow.services.Grantflow.verify` feeds it from the database; tests feed it lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from grantflow.audit import chain, entries
from grantflow.audit.replay import Directory, Judge, VersionOf
from grantflow.errors import ChainBroken

PROBLEM_LIMIT = 100
"""How many problems a report lists (the rest are only counted)."""


@attrs.frozen
class Problem:
    """One broken entry: which (``log_id`` as in the export, ``where`` in words) and what."""

    where: str
    what: str
    log_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.where} ({self.log_id})" if self.log_id else self.where
        return f"{where}: {self.what}"


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What ``grantflow audit verify`` found."""

    transitions: int
    grants: int
    refused: int
    checkpoints: int
    admin: int = 0
    """Records of the administrative chain (actors, roles, logins, guideline loads)."""
    judged: int = 0
    """Transition records replayed and judged again by the rules (written since 0006)."""
    legacy: int = 0
    """Transition records written before migration 0006: their chain, continuity and replay
    are checked, but they commit to no state, guideline hash or assurance, so they are not
    judged again."""
    problems: tuple[Problem, ...] = ()
    more_problems: int = 0
    """Problems found beyond :data:`PROBLEM_LIMIT` (not listed)."""
    digest: str | None = None
    """The digest checked (``--digest``), if any."""
    newest_digest: str | None = None
    """The digest of the newest checkpoint in the log (``None`` without checkpoints)."""

    @property
    def intact(self) -> bool:
        """Whether every check passed."""
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The first broken entry found (``None`` when intact)."""
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        """One line: ``intact: …`` or ``BROKEN: <first problem>``."""
        counts = (
            f"{_n(self.transitions, 'transition')} in {_n(self.grants, 'grant')}, "
            f"{_n(self.refused, 'refused attempt')}, {_n(self.checkpoints, 'checkpoint')}"
        )
        if self.admin:
            counts += f", {_n(self.admin, 'administrative record')}"
        if self.intact:
            tail = f"; contains checkpoint {self.digest}" if self.digest else ""
            if self.judged or self.legacy:
                tail += f"; {_n(self.judged, 'step')} judged again by the rules"
            if self.legacy:
                tail += (
                    f", {self.legacy} written before migration 0006 checked for their chain "
                    "and replay only"
                )
            return f"intact: {counts}{tail}"
        more = len(self.problems) - 1 + self.more_problems
        also = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        return f"BROKEN: {self.first}{also}"

    def raise_if_broken(self) -> None:
        """Raise :class:`ChainBroken` naming the first problem unless the log is intact."""
        if not self.intact:
            raise ChainBroken(self.summary().removeprefix("BROKEN: "))


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@attrs.frozen
class SealedCheckpoint:
    """A checkpoint as :func:`verify` reads it.

    ``meta``: its stored values but the heads (``id``, ``created_at``, ``created_by``,
    ``refused_head``, ``prev_hash``, ``hash``, and ``heads_type``: ``"array"`` when the heads
    column holds a list); ``heads``: each sealed head in stored order with the hash the record
    it names has now (``None`` if there is no such record); ``refused_stored``: the stored hash
    of the refused attempt ``refused_head`` names (``None`` if there is none).
    """

    meta: Mapping[str, Any]
    heads: Iterable[tuple[Any, str | None]]
    refused_stored: str | None = None
    admin_stored: str | None = None
    """The stored hash of the administrative record ``admin_head`` names."""


class _Findings:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, where: str, what: str, log_id: str | None = None) -> None:
        if len(self.problems) < self.limit:
            self.problems.append(Problem(where, what, log_id))
        else:
            self.more += 1


def _hash_or_none(payload_of: Any, row: Mapping[str, Any]) -> str | None:
    try:
        return chain.digest_of(payload_of(row))
    except (TypeError, ValueError, KeyError):  # a value no writer of grantflow stores
        return None


def verify(
    *,
    transitions: Iterable[Mapping[str, Any]],
    grants: Iterable[tuple[str, int | None, int | None]],
    refused: Iterable[Mapping[str, Any]],
    checkpoints: Iterable[SealedCheckpoint],
    digest: str | None = None,
    limit: int = PROBLEM_LIMIT,
    admin: Iterable[Mapping[str, Any]] | None = None,
    actors: Iterable[tuple[str, list[str], str | None, bool]] = (),
    versions: Iterable[tuple[str, str, str, Any]] = (),
    version_of: VersionOf | None = None,
) -> VerifyReport:
    """Check every chain (module docstring). ``digest`` must be well-formed
    (:func:`~grantflow.audit.chain.parse_digest` raises ValueError otherwise).

    With ``admin`` (the administrative chain, by id) the chain is checked and folded, and the
    ``actors`` and ``versions`` tables are compared with it; with ``version_of`` as well,
    every grant is replayed and every step judged again (:mod:`grantflow.audit.replay`)."""
    wanted = chain.parse_digest(digest) if digest is not None else None
    found = _Findings(limit)
    directory: Directory | None = None
    if admin is not None:
        directory = Directory()
        _walk_admin(admin, directory, found)
        directory.compare_actors(actors, found.add)
        directory.compare_versions(versions, found.add)
    judge = (
        Judge(directory, version_of, found.add)
        if directory is not None and version_of is not None
        else None
    )
    n_transitions, n_grants = _walk_transitions(transitions, found, judge)
    _check_grants(grants, found)
    n_refused = _walk_refused(refused, found, directory)
    n_checkpoints, newest, digest_seen = _walk_checkpoints(checkpoints, wanted, found, directory)
    if wanted is not None and not digest_seen:
        found.add(
            f"digest {digest}",
            f"the log does not contain checkpoint {wanted[0]} (its newest checkpoint is "
            f"{newest[0] if newest else 'none'}): checkpoints were deleted, or the log was cut "
            "back",
        )
    return VerifyReport(
        transitions=n_transitions,
        grants=n_grants,
        refused=n_refused,
        checkpoints=n_checkpoints,
        admin=directory.count if directory is not None else 0,
        judged=judge.judged if judge is not None else 0,
        legacy=judge.legacy if judge is not None else 0,
        problems=tuple(found.problems),
        more_problems=found.more,
        digest=digest.strip() if digest is not None else None,
        newest_digest=chain.format_digest(*newest) if newest else None,
    )


def _walk_admin(rows: Iterable[Mapping[str, Any]], directory: Directory, found: _Findings) -> None:
    """The administrative chain: hashes and links in ``id`` order, folded as it goes."""
    last_id, last_hash = 0, chain.GENESIS
    for row in rows:
        aid = row["id"]
        where, log_id = f"administrative record {aid}", f"a-{aid}"
        if _hash_or_none(entries.admin_payload, row) != row["hash"]:
            found.add(where, "its content does not match its hash: changed after writing", log_id)
        elif row["prev_hash"] != last_hash or aid != last_id + 1:
            found.add(
                where,
                f"does not follow administrative record {last_id}: records were deleted, "
                "inserted or replaced",
                log_id,
            )
        if aid == 1 and row["action"] != "trust":
            found.add(
                where, "the administrative chain does not start with its trust record", log_id
            )
        directory.fold(row, found.add)
        last_id, last_hash = aid, row["hash"]
    if last_id == 0:
        found.add(
            "administrative chain",
            "is empty: its first record (written by migration 0006) was deleted",
        )


def _walk_transitions(
    rows: Iterable[Mapping[str, Any]], found: _Findings, judge: Judge | None = None
) -> tuple[int, int]:
    count = grants = 0
    gid: Any = object()
    last_seq, last_hash, last_prev, last_id = 0, chain.GENESIS, None, None
    for row in rows:
        count += 1
        if row["grant_id"] != gid:
            gid = row["grant_id"]
            grants += 1
            last_seq, last_hash, last_prev, last_id = 0, chain.GENESIS, None, None
            if judge is not None:
                judge.start()
        seq, log_id = row["seq"], f"t-{row['id']}"
        where = f"grant {gid} record {seq}"
        content_ok = _hash_or_none(entries.transition_payload, row) == row["hash"]
        if seq != last_seq + 1 and content_ok:
            if isinstance(seq, int) and seq > last_seq + 1:
                gap = (
                    f"record {last_seq + 1} is"
                    if seq == last_seq + 2
                    else f"records {last_seq + 1} to {seq - 1} are"
                )
                found.add(where, f"{gap} missing: deleted from the log", log_id)
            else:
                found.add(where, f"follows record {last_seq}: records were renumbered", log_id)
        elif (
            row["prev_hash"] != last_hash
            and last_prev is not None
            and row["prev_hash"] == last_prev
        ):
            found.add(
                f"grant {gid} record {last_seq}",
                f"was inserted: it and the record after it both follow record {last_seq - 1}",
                f"t-{last_id}",
            )
        elif not content_ok:
            found.add(where, "its content does not match its hash: changed after writing", log_id)
        elif row["prev_hash"] != last_hash:
            found.add(
                where,
                f"does not follow record {last_seq} (its prev_hash is not that record's hash): "
                "a record was replaced",
                log_id,
            )
        elif last_id is not None and row["id"] < last_id:
            found.add(
                where,
                f"stands before record {last_seq} in the log (log id {log_id}, record "
                f"{last_seq} is t-{last_id}): records were moved or swapped",
                log_id,
            )
        last_seq, last_hash, last_prev, last_id = seq, row["hash"], row["prev_hash"], row["id"]
        if judge is not None:
            judge.record(row)
    return count, grants


def _check_grants(rows: Iterable[tuple[str, int | None, int | None]], found: _Findings) -> None:
    for gid, version, newest in rows:
        where = f"grant {gid}"
        if version is None:
            found.add(where, f"has records (up to {newest}) but no grants row: it was deleted")
        elif newest is None:
            found.add(where, f"is at version {version} but has no records: they were deleted")
        elif version != newest:
            found.add(
                where,
                f"the grants row is at version {version} but the newest record is {newest}: "
                "records were deleted, or the snapshot was changed",
            )


def _walk_refused(
    rows: Iterable[Mapping[str, Any]], found: _Findings, directory: Directory | None = None
) -> int:
    count = 0
    last_id, last_hash, last_prev = 0, chain.GENESIS, None
    for row in rows:
        count += 1
        rid = row["id"]
        where, log_id = f"refused attempt {rid}", f"r-{rid}"
        content_ok = _hash_or_none(entries.refused_payload, row) == row["hash"]
        if (
            row["prev_hash"] != last_hash
            and last_prev is not None
            and row["prev_hash"] == last_prev
        ):
            found.add(
                f"refused attempt {last_id}",
                "was inserted: it and the attempt after it both follow the same attempt",
                f"r-{last_id}",
            )
        elif not content_ok:
            found.add(where, "its content does not match its hash: changed after writing", log_id)
        elif row["prev_hash"] != last_hash:
            if isinstance(rid, int) and rid > last_id + 1:
                gap = (
                    f"refused attempt {last_id + 1} is"
                    if rid == last_id + 2
                    else f"refused attempts {last_id + 1} to {rid - 1} are"
                )
                found.add(where, f"{gap} missing: deleted from the log", log_id)
            else:
                found.add(
                    where,
                    f"does not follow refused attempt {last_id}: one was replaced",
                    log_id,
                )
        if (
            directory is not None
            and directory.legacy_transitions is not None
            and rid > directory.legacy_refused
            and row.get("actor_auth") is None
        ):
            found.add(
                where,
                "was written after migration 0006 without saying how its actor was "
                "established: not written by grantflow",
                log_id,
            )
        last_id, last_hash, last_prev = rid, row["hash"], row["prev_hash"]
    return count


def _walk_checkpoints(
    checkpoints: Iterable[SealedCheckpoint],
    wanted: tuple[int, str] | None,
    found: _Findings,
    directory: Directory | None = None,
) -> tuple[int, tuple[int, str] | None, bool]:
    count = 0
    last_id, last_hash = 0, chain.GENESIS
    digest_seen = False
    for cp in checkpoints:
        count += 1
        meta = cp.meta
        cid = meta["id"]
        where, log_id = f"checkpoint {cid}", f"c-{cid}"
        sealed_problem: str | None = None
        try:
            hasher: entries.CheckpointHasher | None = entries.CheckpointHasher(meta)
        except (TypeError, ValueError):
            hasher = None
        for head, stored in cp.heads:
            if hasher is not None:
                try:
                    hasher.add(head)
                except (TypeError, ValueError):
                    hasher = None
            if sealed_problem is None:
                sealed_problem = _sealed_head_problem(head, stored)
        computed = hasher.hexdigest() if hasher is not None else None
        refused_problem = _sealed_refused_problem(
            meta["refused_head"], cp.refused_stored, "refused attempt"
        ) or _sealed_refused_problem(
            meta.get("admin_head"), cp.admin_stored, "administrative record"
        )
        if (
            refused_problem is None
            and directory is not None
            and directory.legacy_transitions is not None
            and cid > directory.legacy_checkpoints
            and meta.get("admin_head") is None
        ):
            refused_problem = (
                "was written after migration 0006 without sealing the administrative chain: "
                "not written by grantflow"
            )
        if meta.get("heads_type", "array") != "array" or computed != meta["hash"]:
            found.add(where, "its content does not match its hash: changed after writing", log_id)
        elif cid <= last_id or meta["prev_hash"] != last_hash:
            found.add(
                where, f"does not follow checkpoint {last_id}: one was deleted or replaced", log_id
            )
        elif sealed_problem is not None:
            found.add(where, sealed_problem, log_id)
        elif refused_problem is not None:
            found.add(where, refused_problem, log_id)
        if wanted is not None and cid == wanted[0]:
            digest_seen = True
            if meta["hash"] != wanted[1]:
                found.add(
                    where,
                    f"is not the checkpoint the digest names (its hash is {meta['hash']}, the "
                    f"digest says {wanted[1]}): the log was rewritten",
                    log_id,
                )
        last_id, last_hash = cid, meta["hash"]
    return count, ((last_id, last_hash) if count else None), digest_seen


def _sealed_head_problem(head: Any, stored: str | None) -> str | None:
    if not (
        isinstance(head, list)
        and len(head) == 3
        and isinstance(head[0], str)
        and isinstance(head[1], int)
    ):
        return f"sealed a head that is not [grant id, seq, hash]: {head!r}"
    gid, seq, sealed = head
    if stored is None:
        return (
            f"sealed grant {gid} record {seq}, which is no longer in the log: records were "
            "deleted after the checkpoint"
        )
    if stored != sealed:
        return (
            f"sealed grant {gid} record {seq} with another hash than the record has now: the "
            "record was rewritten after the checkpoint"
        )
    return None


def _sealed_refused_problem(head: Any, stored: str | None, what: str) -> str | None:
    if head is None:
        return None
    if not (isinstance(head, list) and len(head) == 2 and isinstance(head[0], int)):
        return f"sealed a {what} head that is not [id, hash]: {head!r}"
    if stored is None:
        return (
            f"sealed {what} {head[0]}, which is no longer in the log: {what}s were deleted "
            "after the checkpoint"
        )
    if stored != head[1]:
        return (
            f"sealed {what} {head[0]} with another hash than it has now: it was rewritten "
            "after the checkpoint"
        )
    return None


__all__ = [
    "PROBLEM_LIMIT",
    "ChainBroken",
    "Problem",
    "SealedCheckpoint",
    "VerifyReport",
    "verify",
]
