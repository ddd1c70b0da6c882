"""Where things are, for tests that read the project's own files."""

from __future__ import annotations

from pathlib import Path

#: The project root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
