import json
from pathlib import Path
from typing import Any

import pytest

from importer.sandbox import SandboxSeed, load_seed

_SEED_PATH = Path(__file__).with_name("seed.json")


@pytest.fixture
def seed_path() -> Path:
    return _SEED_PATH


@pytest.fixture
def seed_data() -> dict[str, Any]:
    """The test seed as a fresh dictionary that a test may change."""
    data: dict[str, Any] = json.loads(_SEED_PATH.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def seed() -> SandboxSeed:
    return load_seed(_SEED_PATH)
