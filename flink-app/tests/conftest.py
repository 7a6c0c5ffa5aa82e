import sys
from pathlib import Path

# The job's modules (enrichment/, main.py) import as they do inside the application zip.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
