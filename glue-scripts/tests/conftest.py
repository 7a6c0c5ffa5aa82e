import sys
from pathlib import Path

# The Glue jobs ship glue-scripts/lakehouse as their extra Python package; tests import it the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
