import sys
from pathlib import Path

import pytest

# The Glue jobs ship glue-scripts/lakehouse as their extra Python package; tests import it the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The local engines that stand in for managed ones (Trino for Athena), and the API stand-ins (moto).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "engines"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "stand-ins"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session with Iceberg for the whole run (start-up costs seconds)."""
    try:
        from lakehouse.spark import local_session
    except ImportError as error:  # a missing engine fails the run with the fix, never skips
        raise ImportError("pyspark is not installed: run 'npm run setup' (scripts/setup.sh installs requirements-dev.txt)") from error
    session = local_session("glue-scripts-tests", str(tmp_path_factory.mktemp("warehouse")))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def trino(tmp_path_factory):
    """A local Trino 476 (Athena engine v3 is Trino-based) for the whole run; it fails, never skips, when not installed."""
    from local_trino import LocalTrino

    engine = LocalTrino(tmp_path_factory.mktemp("trino")).start()
    yield engine
    engine.stop()
