"""A stand-in for the Redshift Data API on 127.0.0.1 whose SQL runs on a real PostgreSQL.

moto answers the Data API with canned results (TOOLCHAIN.md), so nothing built on it would test
the SQL. This server speaks the Data API's JSON protocol (the AWS SDK's RedshiftDataClient talks
to it unchanged through `endpoint`) and runs each call's statements on a throwaway PostgreSQL
(tools/engines/local_postgres.py), with the service's rules that the platform relies on:

- BatchExecuteStatement runs its 1 to 40 statements in one transaction: a failing statement rolls
  back the whole batch; DescribeStatement then reports FAILED with the error, the failing
  sub-statement FAILED and the later ones ABORTED.
- Statements are asynchronous: the first DescribeStatement of a statement reports STARTED, so a
  caller that does not poll fails here as it would on AWS.
- Who runs the SQL: with SecretArn, the admin (the namespace's managed secret); without it, the
  caller's IAM identity, which Redshift maps to the database roles of its RedshiftDbRoles tag. The
  stand-in cannot see IAM tags: `--iam-db-roles` names the roles the IAM identity has, and its
  statements run under `SET ROLE` to them.
- A database that does not exist is created on first use (a namespace's database exists before
  anything connects to it).

Usage: python redshift_data_api.py [--iam-db-roles warehouse_loader]; prints one JSON line
{"endpoint": ..., "postgresPort": ...} when ready, serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import uuid
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))
from local_postgres import LocalPostgres  # noqa: E402

MAX_BATCH = 40


class ServiceError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class DataApi:
    def __init__(self, pg: LocalPostgres, iam_db_roles: list[str]):
        self.pg, self.iam_db_roles = pg, iam_db_roles
        self.statements: dict[str, dict] = {}
        self.databases: set[str] = set()
        self.lock = threading.Lock()

    def _database(self, name: str) -> None:
        with self.lock:
            if name in self.databases:
                return
            with self.pg.connect() as conn:
                conn.autocommit = True
                if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    conn.execute(f'CREATE DATABASE "{name}"')
            self.databases.add(name)

    def _target(self, body: dict) -> str:
        if not body.get("WorkgroupName") and not body.get("ClusterIdentifier"):
            raise ServiceError("ValidationException", "Either WorkgroupName or ClusterIdentifier is required")
        database = body.get("Database")
        if not database:
            raise ServiceError("ValidationException", "Database is required")
        self._database(database)
        return database

    def _run(self, body: dict, sqls: list[str]) -> dict:
        database = self._target(body)
        statement_id = str(uuid.uuid4())
        subs = [{"Id": f"{statement_id}:{i + 1}", "QueryString": sql, "Status": "ABORTED", "HasResultSet": False, "ResultRows": -1} for i, sql in enumerate(sqls)]
        results: dict[str, tuple[list[str], list[list]]] = {}
        error = None
        with self.pg.connect(database) as conn:
            try:
                with conn.transaction():
                    if not body.get("SecretArn") and self.iam_db_roles:
                        conn.execute(f"SET LOCAL ROLE {self.iam_db_roles[0]}")
                    for sub in subs:
                        try:
                            cur = conn.execute(sub["QueryString"])
                        except psycopg.Error as e:
                            sub.update(Status="FAILED", Error=f"ERROR: {e.diag.message_primary or e}")
                            error = sub["Error"]
                            raise
                        sub["Status"] = "FINISHED"
                        if cur.description is not None:
                            rows = cur.fetchall()
                            sub.update(HasResultSet=True, ResultRows=len(rows))
                            results[sub["Id"]] = ([d.name for d in cur.description], [list(r) for r in rows])
                        else:
                            sub["ResultRows"] = max(cur.rowcount, 0)
            except psycopg.Error as e:
                # A failure outside the statements (the role to run under) fails the batch too.
                error = error or f"ERROR: {e.diag.message_primary or e}"
                results.clear()
        record = {
            "Id": statement_id, "Status": "FAILED" if error else "FINISHED", "Error": error, "Subs": subs, "Results": results,
            "Database": database, "WorkgroupName": body.get("WorkgroupName"), "Described": 0,
        }
        with self.lock:
            self.statements[statement_id] = record
        return {"Id": statement_id, "Database": database, "WorkgroupName": body.get("WorkgroupName"), "CreatedAt": datetime.now().timestamp()}

    def BatchExecuteStatement(self, body: dict) -> dict:
        sqls = body.get("Sqls") or []
        if not 1 <= len(sqls) <= MAX_BATCH:
            raise ServiceError("ValidationException", f"Sqls must hold 1 to {MAX_BATCH} statements, got {len(sqls)}")
        return self._run(body, sqls)

    def ExecuteStatement(self, body: dict) -> dict:
        if not body.get("Sql"):
            raise ServiceError("ValidationException", "Sql is required")
        # The platform passes no parameters (its SQL is static); refused rather than half-served.
        if body.get("Parameters"):
            raise ServiceError("ValidationException", "Parameters are not served by the stand-in")
        return self._run(body, [body["Sql"]])

    def _statement(self, statement_id: str) -> tuple[dict, dict | None]:
        base, _, sub = statement_id.partition(":")
        record = self.statements.get(base)
        if record is None:
            raise ServiceError("ResourceNotFoundException", f"Query does not exist: {statement_id}")
        return record, (record["Subs"][int(sub) - 1] if sub else None)

    def DescribeStatement(self, body: dict) -> dict:
        record, sub = self._statement(body.get("Id", ""))
        record["Described"] += 1
        if record["Described"] == 1:
            return {"Id": record["Id"], "Status": "STARTED", "HasResultSet": False}
        if sub is not None:
            return {k: v for k, v in sub.items() if v is not None}
        out = {"Id": record["Id"], "Status": record["Status"], "Database": record["Database"], "HasResultSet": any(s["HasResultSet"] for s in record["Subs"])}
        if record["Error"]:
            out["Error"] = record["Error"]
        if len(record["Subs"]) > 1:
            out["SubStatements"] = [{k: v for k, v in s.items() if k != "QueryString" and v is not None} for s in record["Subs"]]
        else:
            out["QueryString"] = record["Subs"][0]["QueryString"]
            out["ResultRows"] = record["Subs"][0]["ResultRows"]
        return out

    def GetStatementResult(self, body: dict) -> dict:
        statement_id = body.get("Id", "")
        record, sub = self._statement(statement_id)
        key = sub["Id"] if sub else (record["Subs"][0]["Id"] if len(record["Subs"]) == 1 else None)
        if record["Status"] != "FINISHED" or record["Described"] < 2 or key not in record["Results"]:
            raise ServiceError("ValidationException", f"Query has no result set or has not finished: {statement_id}")
        columns, rows = record["Results"][key]
        return {"ColumnMetadata": [{"name": c} for c in columns], "Records": [[data_api_field(v) for v in r] for r in rows], "TotalNumRows": len(rows)}


def data_api_field(value) -> dict:
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, (float, Decimal)):
        return {"doubleValue": float(value)}
    if isinstance(value, datetime):
        return {"stringValue": value.isoformat(sep=" ")}
    if isinstance(value, date):
        return {"stringValue": value.isoformat()}
    return {"stringValue": str(value)}


def json_server(operation_of, content_type: str, error_of) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 (a free port, its own thread) for an AWS JSON protocol: each POST's
    operation found by `operation_of(handler)` (None: not served) is called with the JSON body; a
    ServiceError becomes a 400 whose body and headers `error_of(error)` gives, in the protocol's form."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the tests read the responses, not a log
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            headers: dict[str, str] = {}
            try:
                operation = operation_of(self)
                if operation is None:
                    raise ServiceError("UnknownOperationException", f"not served by the stand-in: {self.path} {self.headers.get('X-Amz-Target', '')}")
                status, payload = 200, operation(body)
            except ServiceError as e:
                status, (payload, headers) = 400, error_of(e)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(api: DataApi) -> ThreadingHTTPServer:
    """The Redshift Data API's protocol: the operation in X-Amz-Target, the error's code in `__type`."""
    def operation_of(handler: BaseHTTPRequestHandler):
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.removeprefix("RedshiftData.")
        if not target.startswith("RedshiftData.") or operation.startswith("_"):
            return None
        return getattr(api, operation, None)

    return json_server(operation_of, "application/x-amz-json-1.1", lambda e: ({"__type": e.code, "message": str(e)}, {}))


def serve_until_stdin_closes(pg: LocalPostgres, server: ThreadingHTTPServer) -> None:
    """Prints the ready line the TypeScript starter waits for (tools/stand-ins/python-stand-in.ts),
    serves until stdin closes or SIGTERM, then stops the server and its PostgreSQL."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_address[1]}", "postgresPort": pg.port}), flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iam-db-roles", default="", help="colon-separated database roles of the caller's IAM identity (its RedshiftDbRoles tag)")
    args = parser.parse_args()
    pg = LocalPostgres.start()
    serve_until_stdin_closes(pg, serve(DataApi(pg, [r for r in args.iam_db_roles.split(":") if r])))


if __name__ == "__main__":
    main()
