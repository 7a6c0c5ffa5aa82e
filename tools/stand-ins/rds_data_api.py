"""A stand-in for the RDS Data API on 127.0.0.1 whose SQL runs on a real PostgreSQL.

moto answers the RDS Data API with canned results (TOOLCHAIN.md), so nothing built on it would test
the SQL. This server speaks the Data API's REST-JSON protocol (the AWS SDK's RDSDataClient talks to
it unchanged through `endpoint`) and runs each call on a throwaway PostgreSQL
(tools/engines/local_postgres.py), with the service's rules the platform relies on:

- ExecuteStatement runs one statement: a second one in the same call is refused, as Aurora
  PostgreSQL's Data API refuses it. Without a transactionId it commits on its own.
- BeginTransaction opens a transaction that later calls name; CommitTransaction and
  RollbackTransaction end it. A failed statement leaves its transaction failed until rolled back.
- Named parameters (`:name`, not `::type`) with typed values (stringValue, longValue, doubleValue,
  booleanValue, isNull); a parameter the SQL names but the call does not give is an error.
- A database error is a DatabaseErrorException whose message carries PostgreSQL's words and its
  SQLSTATE, as the service reports them.
- Who runs the SQL: the secret's user. `--secret-role ARN=ROLE` runs a secret's calls under
  `SET ROLE`; other secrets run as the cluster's superuser (the master).

Usage: python rds_data_api.py [--secret-role ARN=ROLE ...]; prints one JSON line
{"endpoint": ..., "postgresPort": ...} when ready, serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))
from local_postgres import LocalPostgres  # noqa: E402
from redshift_data_api import ServiceError, data_api_field, json_server, serve_until_stdin_closes  # noqa: E402

PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
VALUE_KINDS = ("stringValue", "longValue", "doubleValue", "booleanValue")


def bound(sql: str, parameters: list[dict]) -> tuple[str, dict]:
    """The statement in psycopg's form (`%(name)s`) and its values; `::type` casts stay."""
    values = {}
    for p in parameters:
        value = p.get("value", {})
        if value.get("isNull"):
            values[p["name"]] = None
            continue
        kinds = [k for k in VALUE_KINDS if k in value]
        if len(kinds) != 1:
            raise ServiceError("BadRequestException", f"parameter {p.get('name')}: exactly one of {', '.join(VALUE_KINDS)} or isNull")
        values[p["name"]] = value[kinds[0]]
    named = set(PARAMETER.findall(sql))
    missing = sorted(named - set(values))
    if missing:
        raise ServiceError("BadRequestException", f"No value specified for parameter: {missing[0]}")
    if not values:
        return sql, values  # sent as it is: psycopg reads %-placeholders only when given values
    return PARAMETER.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%")), values


class DataApi:
    def __init__(self, pg: LocalPostgres, secret_roles: dict[str, str]):
        self.pg, self.secret_roles = pg, secret_roles
        self.transactions: dict[str, psycopg.Connection] = {}
        self.databases: set[str] = set()
        self.lock = threading.Lock()

    def _connect(self, body: dict) -> psycopg.Connection:
        if not body.get("resourceArn") or not body.get("secretArn"):
            raise ServiceError("BadRequestException", "resourceArn and secretArn are required")
        database = body.get("database") or "postgres"
        with self.lock:
            if database not in self.databases:
                with self.pg.connect() as admin:
                    admin.autocommit = True
                    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                        admin.execute(f'CREATE DATABASE "{database}"')
                self.databases.add(database)
        conn = self.pg.connect(database)
        role = self.secret_roles.get(body["secretArn"])
        if role:
            conn.execute(f"SET ROLE {role}")
            conn.commit()
        return conn

    def BeginTransaction(self, body: dict) -> dict:
        conn = self._connect(body)
        transaction_id = str(uuid.uuid4())
        with self.lock:
            self.transactions[transaction_id] = conn
        return {"transactionId": transaction_id}

    def _end(self, body: dict, commit: bool) -> dict:
        with self.lock:
            conn = self.transactions.pop(body.get("transactionId", ""), None)
        if conn is None:
            raise ServiceError("NotFoundException", f"Transaction {body.get('transactionId')} is not found")
        try:
            conn.commit() if commit else conn.rollback()
        except psycopg.Error as e:
            raise database_error(e) from e
        finally:
            conn.close()
        return {"transactionStatus": "Transaction Committed" if commit else "Rollback Complete"}

    def CommitTransaction(self, body: dict) -> dict:
        return self._end(body, commit=True)

    def RollbackTransaction(self, body: dict) -> dict:
        return self._end(body, commit=False)

    def ExecuteStatement(self, body: dict) -> dict:
        sql = (body.get("sql") or "").strip().rstrip(";")
        if not sql:
            raise ServiceError("BadRequestException", "sql is required")
        if ";" in re.sub(r"'[^']*'|\$(\w*)\$.*?\$\1\$", "", sql, flags=re.S):
            raise ServiceError("BadRequestException", "Multistatements aren't supported.")
        statement, values = bound(sql, body.get("parameters") or [])
        transaction_id = body.get("transactionId")
        if transaction_id:
            with self.lock:
                conn = self.transactions.get(transaction_id)
            if conn is None:
                raise ServiceError("BadRequestException", f"Transaction {transaction_id} is not found")
            return self._execute(conn, statement, values)
        with self._connect(body) as conn:
            out = self._execute(conn, statement, values)
            conn.commit()
            return out

    @staticmethod
    def _execute(conn: psycopg.Connection, statement: str, values: dict) -> dict:
        try:
            cur = conn.execute(statement, values or None)
        except psycopg.Error as e:
            raise database_error(e) from e
        out: dict = {"numberOfRecordsUpdated": max(cur.rowcount, 0) if cur.description is None else 0}
        if cur.description is not None:
            out["records"] = [[data_api_field(v) for v in row] for row in cur.fetchall()]
            out["columnMetadata"] = [{"name": d.name} for d in cur.description]
        return out


def database_error(e: psycopg.Error) -> ServiceError:
    return ServiceError("DatabaseErrorException", f"ERROR: {e.diag.message_primary or e}; SQLState: {e.sqlstate}")


def serve(api: DataApi) -> ThreadingHTTPServer:
    """The RDS Data API's REST-JSON protocol: the operation in the path, the error's code in a header."""
    operations = {"/BeginTransaction": api.BeginTransaction, "/CommitTransaction": api.CommitTransaction,
                  "/RollbackTransaction": api.RollbackTransaction, "/Execute": api.ExecuteStatement}
    return json_server(lambda handler: operations.get(handler.path.split("?")[0]), "application/json",
                       lambda e: ({"message": str(e)}, {"x-amzn-ErrorType": e.code}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret-role", action="append", default=[], help="ARN=ROLE: the database role a secret's calls run under")
    args = parser.parse_args()
    pg = LocalPostgres.start()
    serve_until_stdin_closes(pg, serve(DataApi(pg, dict(pair.split("=", 1) for pair in args.secret_role))))


if __name__ == "__main__":
    main()
