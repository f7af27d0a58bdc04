"""The hash chains that make the log tamper-evident: canonical bytes and SHA-256 links.

Every log entry is hashed over a **canonical serialization** of its content plus the hash of
the entry before it in the same chain:

* one chain **per grant** for transition records, in ``seq`` order (``prev_hash`` of seq 1 is
  :data:`GENESIS`). A writer already holds the grant's row lock when it appends, so chaining
  per grant serializes nobody who was not serialized anyway;
* one chain for **refused attempts**, in the order they were recorded;
* one chain of **administrative records** (migration ``0006``): actors added, roles and logins
  changed, actors deactivated, guideline versions loaded;
* one chain of **checkpoints**: ``grantflow audit digest`` seals the heads of all chains (each
  grant's last ``(seq, hash)`` and the refused chain's last ``(id, hash)``) into a checkpoint
  whose hash is the digest an auditor keeps outside the system. Deleting a grant's newest
  records, a whole grant, or refused attempts after a checkpoint breaks that checkpoint.

Canonical serialization (also implemented, independently, by ``docs/verify_log.py``): the
entry's fields as a JSON object with keys sorted, no insignificant white space
(``separators=(",", ":")``), non-ASCII characters kept as UTF-8 (``ensure_ascii=False``), encoded
as UTF-8. Amounts are strings with two decimals, dates ISO 8601, times ISO 8601 in UTC with
microseconds (:func:`utc_iso`). The hash is the lowercase hex SHA-256 of those bytes. The
reference is ``docs/explanation/audit-chain.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

GENESIS = "0" * 64
"""``prev_hash`` of the first entry of every chain."""

TRANSITION = "transition"
REFUSED = "refused"
CHECKPOINT = "checkpoint"
ADMIN = "admin"

TRUST_FIELDS = ("actor_auth", "guideline_hash", "state_hash")
"""The fields migration ``0006`` added to what a record's hash covers: how the actor was
established, the guideline version's content hash, and (transitions) the hash of the grant's
state after the step. A record written before 0006 has none of them and its payload leaves them
out, so its hash stays what it was; every record written since has all of them."""


def _with_trust(payload: dict[str, Any], trust: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in trust.items():
        if value is not None:
            payload[key] = value
    return payload


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a payload (sorted keys, compact, UTF-8)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest_of(payload: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical bytes of ``payload``."""
    return hashlib.sha256(canonical(payload)).hexdigest()


def utc_iso(moment: dt.datetime) -> str:
    """A recording time as the chains hash it: ISO 8601 in UTC, always with microseconds
    (``"2026-11-23T16:24:27.123456+00:00"``). Raises ValueError for a naive time."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    u = moment.astimezone(dt.UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}+00:00"
    )


def transition_payload(
    *,
    grant_id: str,
    seq: int,
    event: str,
    from_state: str | None,
    to_state: str,
    business_date: str,
    recorded_at: str,
    actor: str,
    reason: str,
    data: Any,
    verdicts: Any,
    guideline_id: str,
    guideline_version: str,
    prev_hash: str,
    state_hash: str | None = None,
    actor_auth: str | None = None,
    guideline_hash: str | None = None,
) -> dict[str, Any]:
    """What a transition record's hash covers (all values already JSON values; the
    :data:`TRUST_FIELDS` only where they are not ``None``)."""
    payload = {
        "kind": TRANSITION,
        "grant_id": grant_id,
        "seq": seq,
        "event": event,
        "from_state": from_state,
        "to_state": to_state,
        "business_date": business_date,
        "recorded_at": recorded_at,
        "actor": actor,
        "reason": reason,
        "data": data,
        "verdicts": verdicts,
        "guideline_id": guideline_id,
        "guideline_version": guideline_version,
        "prev_hash": prev_hash,
    }
    trust = {"state_hash": state_hash, "actor_auth": actor_auth, "guideline_hash": guideline_hash}
    return _with_trust(payload, trust)


def refused_payload(
    *,
    refused_id: int,
    grant_id: str | None,
    event: str,
    from_state: str | None,
    business_date: str,
    recorded_at: str,
    actor: str,
    reason: str,
    data: Any,
    verdicts: Any,
    rule_ids: Sequence[str],
    code: str | None,
    message: str | None,
    guideline_id: str | None,
    guideline_version: str | None,
    prev_hash: str,
    actor_auth: str | None = None,
    guideline_hash: str | None = None,
) -> dict[str, Any]:
    """What a refused attempt's hash covers. ``refused_id`` is its place in the refused chain;
    the guideline version is the one the attempt was judged under (``None`` if none was in
    force)."""
    payload = {
        "kind": REFUSED,
        "refused_id": refused_id,
        "grant_id": grant_id,
        "event": event,
        "from_state": from_state,
        "business_date": business_date,
        "recorded_at": recorded_at,
        "actor": actor,
        "reason": reason,
        "data": data,
        "verdicts": verdicts,
        "rule_ids": list(rule_ids),
        "code": code,
        "message": message,
        "guideline_id": guideline_id,
        "guideline_version": guideline_version,
        "prev_hash": prev_hash,
    }
    return _with_trust(payload, {"actor_auth": actor_auth, "guideline_hash": guideline_hash})


def admin_payload(
    *,
    admin_id: int,
    recorded_at: str,
    actor: str | None,
    actor_auth: str,
    action: str,
    subject: str | None,
    data: Any,
    prev_hash: str,
) -> dict[str, Any]:
    """What an administrative record's hash covers (``admin_events``, one chain by id)."""
    return {
        "kind": ADMIN,
        "admin_id": admin_id,
        "recorded_at": recorded_at,
        "actor": actor,
        "actor_auth": actor_auth,
        "action": action,
        "subject": subject,
        "data": data,
        "prev_hash": prev_hash,
    }


def checkpoint_payload(
    *,
    checkpoint_id: int,
    created_at: str,
    created_by: str,
    heads: Sequence[Sequence[Any]],
    refused_head: Sequence[Any] | None,
    prev_hash: str,
    admin_head: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """What a checkpoint's hash covers: every grant chain's head ``[grant_id, seq, hash]``
    (sorted by grant id), the refused chain's head ``[refused_id, hash]`` and (since migration
    ``0006``) the administrative chain's head ``[admin_id, hash]``."""
    payload = {
        "kind": CHECKPOINT,
        "checkpoint_id": checkpoint_id,
        "created_at": created_at,
        "created_by": created_by,
        "heads": [list(h) for h in sorted(heads, key=lambda h: str(h[0]))],
        "refused_head": list(refused_head) if refused_head is not None else None,
        "prev_hash": prev_hash,
    }
    if admin_head is not None:
        payload["admin_head"] = list(admin_head)
    return payload


def format_digest(checkpoint_id: int, checkpoint_hash: str) -> str:
    """The digest an auditor keeps: ``gf1-<checkpoint id>-<checkpoint hash>``."""
    return f"gf1-{checkpoint_id}-{checkpoint_hash}"


def parse_digest(text: str) -> tuple[int, str]:
    """``(checkpoint id, hash)`` from a digest; raises ValueError with a plain sentence."""
    parts = text.strip().split("-")
    if (
        len(parts) != 3
        or parts[0] != "gf1"
        or not parts[1].isdigit()
        or len(parts[2]) != 64
        or any(c not in "0123456789abcdef" for c in parts[2])
    ):
        raise ValueError(
            f"{text!r} is not a grantflow digest (expected gf1-<number>-<64 hex digits>, "
            "as printed by 'grantflow audit digest')"
        )
    return int(parts[1]), parts[2]
