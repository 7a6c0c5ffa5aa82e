"""The warehouse's SQL (warehouse/), as the local engine runs it: the migrations in order, each
once and recorded, and the daily load of a day in one transaction.

The rule for Redshift-only SQL, in one place: a migration named `V<n>__<name>.redshift.sql` runs on
Redshift alone; locally it is replaced by `warehouse/local/V<n>__<name>.sql` if there is one
(the staging tables that stand for the external schemas), or by nothing (the physical design:
distribution and sort keys). No other file is edited on the way to PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
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


def day_values(day: str, loaded_at: datetime | None = None) -> dict[str, str]:
    """The load's values for a day, which must be a yyyy-MM-dd date (they are written into the SQL)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ValueError(f"day must be yyyy-MM-dd, got {day!r}")
    parsed = date.fromisoformat(day)
    at = (loaded_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {"day": parsed.isoformat(), "date_key": parsed.strftime("%Y%m%d"), "loaded_at": at.strftime("%Y-%m-%d %H:%M:%S")}


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


def load_day(conn, day: str, loaded_at: datetime | None = None) -> dict[str, int]:
    """The daily load of `day` in one transaction; returns the day's row of core.load_log."""
    sql = render((WAREHOUSE / "load" / "daily.sql").read_text(encoding="utf-8"), day_values(day, loaded_at))
    with conn.transaction():
        for statement in statements(sql):
            conn.execute(statement)
    row = conn.execute(
        "SELECT intervals, daily_rows, without_shipment, unknown_customer, without_weather FROM core.load_log WHERE date_key = %s",
        (int(day.replace("-", "")),),
    ).fetchone()
    return dict(zip(["intervals", "daily_rows", "without_shipment", "unknown_customer", "without_weather"], row))
