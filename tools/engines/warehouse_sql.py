"""The warehouse's SQL (warehouse/), as the local engine runs it: the migrations in order, each
once and recorded, and the daily load of a day in one transaction.

The rule for Redshift-only SQL, in one place: a migration named `V<n>__<name>.redshift.sql` runs on
Redshift alone; locally it is replaced by `warehouse/local/V<n>__<name>.sql` if there is one
(the staging tables that stand for the external schemas), or by nothing (the physical design:
distribution and sort keys). No other file is edited on the way to PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE = ROOT / "warehouse"
REDSHIFT_ONLY = ".redshift.sql"
PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")


def migrations(engine: str) -> list[tuple[str, Path]]:
    """(version name, file) in order, for `redshift` or `postgres`."""
    chosen = []
    for path in sorted((WAREHOUSE / "migrations").glob("V*.sql"), key=lambda p: int(p.name[1:].split("__")[0])):
        name = path.name.removesuffix(REDSHIFT_ONLY).removesuffix(".sql")
        if path.name.endswith(REDSHIFT_ONLY) and engine != "redshift":
            local = WAREHOUSE / "local" / f"{name}.sql"
            if local.exists():
                chosen.append((name, local))
            continue
        chosen.append((name, path))
    return chosen


def statements(sql: str) -> list[str]:
    """The statements of a file: comments dropped, split at a `;` that ends a line (the warehouse's
    SQL keeps no `;` inside a literal)."""
    text = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


def render(sql: str, values: dict[str, str]) -> str:
    """Fills {{name}} placeholders; a placeholder without a value is an error, not an empty string."""
    missing = sorted({m for m in PLACEHOLDER.findall(sql) if m not in values})
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], sql)


# The load's files (warehouse/load/): the dates to load, then the star, in one transaction.
PENDING_LOAD = ("pending_dates.sql", "star.sql", "advance_watermark.sql")
ONE_DAY_LOAD = ("one_day.sql", "star.sql")
LOG_COLUMNS = ["intervals", "daily_rows", "without_shipment", "unknown_customer", "without_weather"]
READING_LOG_COLUMNS = ["readings", "no_device_record", "unknown_device_version"]


def day_values(day: str) -> dict[str, str]:
    """The values of a by-hand load of a day, which must be a yyyy-MM-dd date (it is written into the SQL)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ValueError(f"day must be yyyy-MM-dd, got {day!r}")
    return {"day": date.fromisoformat(day).isoformat()}


def load_statements(day: str | None = None) -> list[str]:
    """The statements of a load: the dates the lake recomputed since the last load (the daily run),
    or one day's reload."""
    files, values = (ONE_DAY_LOAD, day_values(day)) if day is not None else (PENDING_LOAD, {})
    return [s for f in files for s in statements(render((WAREHOUSE / "load" / f).read_text(encoding="utf-8"), values))]


def migrate(conn) -> list[str]:
    """Applies the migrations not yet recorded, each in its own transaction; returns their names."""
    with conn.transaction():
        conn.execute("CREATE TABLE IF NOT EXISTS public.schema_migrations (version VARCHAR(128) PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT version FROM public.schema_migrations").fetchall()}
    applied = []
    for name, path in migrations("postgres"):
        if name in done:
            continue
        with conn.transaction():
            for statement in statements(path.read_text(encoding="utf-8")):
                conn.execute(statement)
            conn.execute("INSERT INTO public.schema_migrations VALUES (%s, now())", (name,))
        applied.append(name)
    return applied


def load(conn, day: str | None = None) -> dict[str, dict[str, int]]:
    """A load in one transaction (the pending dates, or `day`); returns core.load_log and
    core.reading_load_log by date loaded."""
    columns = [*(f"l.{c}" for c in LOG_COLUMNS), *(f"r.{c}" for c in READING_LOG_COLUMNS)]
    with conn.transaction():
        for statement in load_statements(day):
            conn.execute(statement)
        loaded = conn.execute(f"SELECT l.date_key, {', '.join(columns)} FROM core.load_log l JOIN load_dates d ON d.date_key = l.date_key "
                              "JOIN core.reading_load_log r ON r.date_key = l.date_key ORDER BY 1").fetchall()
    return {f"{k // 10000:04d}-{k // 100 % 100:02d}-{k % 100:02d}": dict(zip([*LOG_COLUMNS, *READING_LOG_COLUMNS], rest)) for k, *rest in loaded}


def reload_request(day: str, workgroup: str, database: str) -> dict:
    """The Data API request that reloads `day` by hand: `aws redshift-data batch-execute-statement
    --cli-input-json file://...` runs it as one transaction, as whoever calls it (the caller needs
    warehouse_loader, or the admin secret with --secret-arn)."""
    return {"WorkgroupName": workgroup, "Database": database, "Sqls": load_statements(day), "StatementName": f"warehouse-reload-{day}"}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Prints the Data API request that reloads one day of the warehouse.")
    parser.add_argument("--day", required=True, help="yyyy-MM-dd")
    parser.add_argument("--workgroup", required=True, help="the warehouse stack's WorkgroupName output")
    parser.add_argument("--database", required=True, help="the warehouse stack's DatabaseName output")
    args = parser.parse_args()
    try:
        print(json.dumps(reload_request(args.day, args.workgroup, args.database), indent=1))
    except ValueError as e:
        parser.exit(2, f"error: --day {args.day}: {e}\n")
