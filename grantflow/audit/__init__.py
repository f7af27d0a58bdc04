"""Tamper evidence for the log: hash chains, checkpoints, verification."""
