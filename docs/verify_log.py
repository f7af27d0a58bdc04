#!/usr/bin/env python3
"""Verify a grantflow log export on your own, with nothing but the Python standard library.

Usage::

    grantflow log --format jsonl > log.jsonl          # the whole log, no filters
    python3 verify_log.py log.jsonl                    # exit 0: intact; exit 3: broken
                                                       # exit 1: an empty export proves nothing
    python3 verify_log.py log.jsonl --digest gf1-12-3f0c...   # and: extends that digest

This script does not import grantflow. It re-implements the canonical serialization described
in docs/explanation/audit-chain.md, so an auditor can read these ~150 lines instead of trusting
grantflow's code:

* each line is one JSON object: an entry's hashed fields plus ``hash`` (and ``log_id``, which
  is not hashed);
* ``hash`` = SHA-256 (hex) over the entry's other fields serialized as JSON with sorted keys,
  no spaces, UTF-8 (``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``);
* transitions form one chain per grant (``seq`` 1, 2, 3, ... each naming the previous entry's
  hash in ``prev_hash``; the first names 64 zeros); refused attempts form one chain in
  ``refused_id`` order; checkpoints form one chain in ``checkpoint_id`` order and seal the
  head of every other chain;
* administrative records (actors, roles, logins, guideline versions loaded) form one chain in
  ``admin_id`` order; checkpoints seal its head too (``admin_head``);
* a digest ``gf1-<checkpoint id>-<hash>`` names a checkpoint; verifying with it proves the log
  still contains everything that checkpoint sealed.

Beyond the hashes it checks what the records say of a grant's life: each record starts in the
state the one before it ended in, and no payment brings what was paid above the amount granted
(the notice's, or the latest amendment's). What only ``grantflow audit verify`` checks: that
the grants table is the replay of the log, that every step would pass the guideline's rules
(re-judged with the guideline version it names), who held which role when, and that stored
guideline versions are the ones loaded. A line with a duplicated key is refused (a reader
would see the first value, the hash covers the last).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
NOT_HASHED = ("hash", "log_id")


def entry_hash(entry: dict[str, Any]) -> str:
    payload = {k: v for k, v in entry.items() if k not in NOT_HASHED}
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class Broken(Exception):
    pass


class Empty(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, value in pairs:
        if key in entry:
            raise ValueError(f"the key {key!r} appears twice")
        entry[key] = value
    return entry


def verify(lines: Iterable[str], digest: str | None = None) -> str:
    """Return a summary string, or raise Broken naming the first broken entry (Empty for an
    export without entries and no digest)."""
    try:
        return _verify(lines, digest)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # a malformed entry
        raise Broken(f"a malformed entry: {exc!r}") from None


def _verify(lines: Iterable[str], digest: str | None) -> str:
    grants: dict[str, tuple[int, str]] = {}  # grant id -> (last seq, last hash)
    seen: dict[tuple[str, int], str] = {}  # (grant id, seq) -> hash
    refused_last = (0, GENESIS)
    refused_seen: dict[int, str] = {}
    checkpoints: dict[int, dict[str, Any]] = {}
    checkpoint_last = (0, GENESIS)
    admin_last = (0, GENESIS)
    admin_seen: dict[int, str] = {}
    states: dict[str, str] = {}  # grant id -> state its last record ended in
    money: dict[str, tuple[Decimal, Decimal]] = {}  # grant id -> (granted, paid)
    counts = {"transition": 0, "refused": 0, "checkpoint": 0, "admin": 0}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line, object_pairs_hook=_no_duplicates)
        except ValueError as exc:
            raise Broken(f"line {number}: not JSON ({exc})") from None
        kind = entry.get("kind")
        where = f"line {number} ({kind} {entry.get('grant_id', '')} {entry.get('seq', '')})".strip()
        if entry_hash(entry) != entry.get("hash"):
            raise Broken(f"{where}: its content does not match its hash (changed after writing)")
        if kind == "transition":
            gid, seq = entry["grant_id"], entry["seq"]
            last_seq, last_hash = grants.get(gid, (0, GENESIS))
            if seq != last_seq + 1:
                raise Broken(
                    f"{where}: grant {gid} jumps from seq {last_seq} to {seq} "
                    "(a record was deleted, inserted or moved)"
                )
            if entry["prev_hash"] != last_hash:
                raise Broken(f"{where}: does not follow the previous record of grant {gid}")
            if entry["from_state"] != states.get(gid):
                raise Broken(
                    f"{where}: starts in {entry['from_state']} but the grant's previous record "
                    f"ended in {states.get(gid)}"
                )
            states[gid] = entry["to_state"]
            granted, paid = money.get(gid, (Decimal(0), Decimal(0)))
            data = entry.get("data") or {}
            if entry["event"] in ("approve", "amend"):
                granted = Decimal(data["amount"])
            elif entry["event"] == "disburse":
                paid += Decimal(data["amount"])
                if paid > granted:
                    raise Broken(f"{where}: pays {paid} in all on a grant of {granted}")
            money[gid] = (granted, paid)
            grants[gid] = (seq, entry["hash"])
            seen[(gid, seq)] = entry["hash"]
        elif kind == "refused":
            rid = entry["refused_id"]
            if rid <= refused_last[0] or entry["prev_hash"] != refused_last[1]:
                raise Broken(f"{where}: does not follow refused attempt {refused_last[0]}")
            refused_last = (rid, entry["hash"])
            refused_seen[rid] = entry["hash"]
        elif kind == "checkpoint":
            cid = entry["checkpoint_id"]
            if cid <= checkpoint_last[0] or entry["prev_hash"] != checkpoint_last[1]:
                raise Broken(f"{where}: does not follow checkpoint {checkpoint_last[0]}")
            checkpoint_last = (cid, entry["hash"])
            checkpoints[cid] = entry
        elif kind == "admin":
            aid = entry["admin_id"]
            if aid != admin_last[0] + 1 or entry["prev_hash"] != admin_last[1]:
                raise Broken(f"{where}: does not follow administrative record {admin_last[0]}")
            admin_last = (aid, entry["hash"])
            admin_seen[aid] = entry["hash"]
        else:
            raise Broken(f"line {number}: unknown kind {kind!r}")
        counts[kind] += 1
    for cid, cp in sorted(checkpoints.items()):
        for gid, seq, h in cp["heads"]:
            if seen.get((gid, seq)) != h:
                raise Broken(
                    f"checkpoint {cid}: grant {gid} record {seq} it sealed is missing or changed"
                )
        if cp["refused_head"] is not None:
            rid, h = cp["refused_head"]
            if refused_seen.get(rid) != h:
                raise Broken(f"checkpoint {cid}: refused attempt {rid} it sealed is missing")
        if cp.get("admin_head") is not None:
            aid, h = cp["admin_head"]
            if admin_seen.get(aid) != h:
                raise Broken(f"checkpoint {cid}: administrative record {aid} it sealed is missing")
    if digest is not None:
        parts = digest.strip().split("-")
        if len(parts) != 3 or parts[0] != "gf1" or not parts[1].isdigit():
            raise Broken(f"{digest!r} is not a grantflow digest (gf1-<number>-<hash>)")
        kept = checkpoints.get(int(parts[1]))
        if kept is None or kept["hash"] != parts[2]:
            raise Broken(f"the log does not contain checkpoint {parts[1]} with that hash")
    if not any(counts.values()) and digest is None:
        raise Empty("the export holds no entries: it proves nothing (export the whole log)")
    summary = "intact: {} in {}, {}, {}".format(
        _n(counts["transition"], "transition"),
        _n(len(grants), "grant"),
        _n(counts["refused"], "refused attempt"),
        _n(counts["checkpoint"], "checkpoint"),
    )
    if counts["admin"]:
        summary += ", " + _n(counts["admin"], "administrative record")
    return summary


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a grantflow JSONL log export.")
    parser.add_argument("export", help="file written by 'grantflow log --format jsonl'")
    parser.add_argument("--digest", help="a digest printed earlier by 'grantflow audit digest'")
    args = parser.parse_args(argv)
    try:
        with open(args.export, encoding="utf-8-sig") as f:
            print(verify(f, args.digest))
    except Broken as exc:
        print(f"BROKEN: {exc}", file=sys.stderr)
        return 3
    except Empty as exc:
        print(f"nothing verified: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read {args.export}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
