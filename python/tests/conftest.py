"""pytest setup for the assetc Python suite: the helpers in support.py on the path, and a check that
the package under test is the installed wheel (not python/src), with its binary beside Python."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import support  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    import assetc

    installed = Path(assetc.__file__).resolve()
    if support.REPO / "python" / "src" in installed.parents:
        raise pytest.UsageError(
            f"`assetc` was imported from the source tree (`{installed}`), not from the installed "
            "wheel: run the suite with `just test-python`"
        )
    support.assetc_bin()  # fails the session early, with the fix, when the binary is missing


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Where servers started by a test write their output (shown when the test fails)."""
    d = tmp_path / "logs"
    d.mkdir()
    return d
