"""What the service layer returns besides domain objects: load results and log entries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pendulum

from grantflow.domain.model import Event, State, TransitionRecord, Verdict


@attrs.frozen
class LoadResult:
    """The outcome of loading a guideline file: which versions were new, which already stored."""

    program_id: str
    added: tuple[str, ...]
    unchanged: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LogEntry:
    """One line of the log: a transition record, or a refused attempt (``refused=True``).

    For a refused attempt ``seq`` and ``to_state`` are ``None``, ``grant_id`` is ``None`` for a
    refused proposal, ``rule_ids`` names the rules that refused (``GF-LIFECYCLE`` when the
    lifecycle did) and ``verdicts`` holds every verdict of the attempt. ``id`` is the row's id
    in its table (transitions and refused attempts count separately); entries come in the
    order they were recorded. ``prev_hash`` and ``hash`` link the entry into its hash chain.
    """

    id: int
    refused: bool
    grant_id: str | None
    seq: int | None
    event: Event
    from_state: State | None
    to_state: State | None
    business_date: pendulum.Date
    recorded_at: pendulum.DateTime
    actor: str
    reason: str
    data: Mapping[str, Any]
    verdicts: tuple[Verdict, ...]
    guideline_id: str | None
    guideline_version: str | None
    rule_ids: tuple[str, ...] = ()
    code: str | None = None
    message: str | None = None
    actor_auth: str | None = None
    """How the actor was established (:class:`~grantflow.domain.model.Assurance` value;
    ``None`` for entries recorded before migration 0006)."""
    prev_hash: str | None = None
    """The hash of the entry before it in its chain (the grant's previous record, the previous
    refused attempt; 64 zeros for the first)."""
    hash: str | None = None
    """SHA-256 over the entry's canonical payload (``docs/explanation/audit-chain.md``)."""

    @property
    def record(self) -> TransitionRecord | None:
        """The transition record of this entry (``None`` for a refused attempt)."""
        if self.refused:
            return None
        assert self.grant_id is not None and self.seq is not None and self.to_state is not None
        assert self.guideline_id is not None and self.guideline_version is not None
        return TransitionRecord(
            grant_id=self.grant_id,
            seq=self.seq,
            event=self.event,
            from_state=self.from_state,
            to_state=self.to_state,
            business_date=self.business_date,
            recorded_at=self.recorded_at,
            actor=self.actor,
            reason=self.reason,
            data=self.data,
            verdicts=self.verdicts,
            guideline_id=self.guideline_id,
            guideline_version=self.guideline_version,
        )


@attrs.frozen(kw_only=True)
class Checkpoint:
    """A checkpoint ``grantflow audit digest`` wrote: it seals the head of every chain.

    ``digest`` (``gf1-<id>-<hash>``) is what an auditor keeps outside the system; ``grants`` is
    how many grant chains it sealed, ``records`` how many transition records they hold,
    ``refused`` the id of the newest refused attempt it sealed (0: none yet).
    """

    id: int
    digest: str
    hash: str
    prev_hash: str
    created_at: pendulum.DateTime
    created_by: str
    grants: int
    records: int
    refused: int


@attrs.frozen(kw_only=True)
class AdminEntry:
    """One record of the administrative chain (``grantflow actor history``): who (``actor``,
    established as ``actor_auth``; ``None`` and ``"migration"`` for a migration) did what
    (``action``: ``trust``, ``declare-actors``, ``add``, ``roles``, ``login``, ``deactivate``,
    ``guideline``) to whom or which program (``subject``), with ``data`` (roles, login,
    guideline version and content hash)."""

    id: int
    recorded_at: pendulum.DateTime
    actor: str | None
    actor_auth: str
    action: str
    subject: str | None
    data: Mapping[str, Any]
    after_transition: int | None
    prev_hash: str
    hash: str


__all__ = ["AdminEntry", "Checkpoint", "LoadResult", "LogEntry"]
