"""The example in docs/how-to/embedding.md runs as it is written."""

from __future__ import annotations

import re
import runpy
import tempfile
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "embedding.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_the_embedding_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert blocks, f"no python example in {DOC}"
    script = tmp_path / "embedding_example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    namespace = runpy.run_path(str(script), run_name="embedding_example")
    assert str(namespace["workdir"]).startswith(str(tmp_path))
    assert namespace["grant"].id == "DMR-2019-0001"
