"""The device registry's SQL (registry/migrations/), as the local engine runs it: each migration
once, in order, whole (its functions' bodies hold semicolons, and PostgreSQL's simple query
protocol runs a file of statements as it is), in one transaction with its record. The deploy-time
custom resource applies the same files the same way."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "registry" / "migrations"
LEDGER = "public.registry_migrations"


def migrations() -> list[tuple[str, Path]]:
    """(version name, file) in version order."""
    files = sorted(MIGRATIONS.glob("V*__*.sql"), key=lambda p: int(p.name[1:].split("__")[0]))
    return [(p.name.removesuffix(".sql"), p) for p in files]


def migrate(conn) -> list[str]:
    """Applies the migrations not yet recorded; returns their names."""
    with conn.transaction():
        conn.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} (version VARCHAR(128) PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
    done = {row[0] for row in conn.execute(f"SELECT version FROM {LEDGER}").fetchall()}
    applied = []
    for name, path in migrations():
        if name in done:
            continue
        with conn.transaction():
            conn.execute(path.read_text(encoding="utf-8"))
            conn.execute(f"INSERT INTO {LEDGER} VALUES (%s, now())", (name,))
        applied.append(name)
    return applied
