import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
# The run's modules, and the Glue package they import, as runner.py puts them on the path.
sys.path[:0] = [str(HERE.parent), str(ROOT / "glue-scripts"), str(ROOT / "flink-app"), str(ROOT / "tools" / "stand-ins")]
