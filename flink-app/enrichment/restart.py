"""The enrichment killed in the middle of its stream and restarted from its last checkpoint, on the
local mini cluster: what Managed Flink does when a task manager dies or the application is
restarted (issue 16's fault run, and flink-app/tests/test_restart.py).

The readings arrive as a stream would bring them: in chunks, one file at a time, into a folder
the source watches (the filesystem source in continuous mode stands in for the Kinesis source; it
checkpoints the files it has read and its position in the current one, as the Kinesis source
checkpoints each shard's sequence number). The device updates are all in their folder from the
start. The driver:

1. runs the job, feeding the first `checkpoint_after` chunks, waiting until the source has read
   each one before the next (so the arrival order is the file's order), then takes a checkpoint
   (triggered through the REST API, so the test knows which records it covers) and notes the
   output at that moment;
2. feeds the chunks up to `kill_after`, waits until the job has processed them, notes the output
   again and cancels the job: killed, with records read and rows emitted after the checkpoint;
3. starts the same job from that checkpoint and feeds the chunks after the checkpoint again
   (Kinesis would deliver them again: the restored source reads from the checkpointed sequence
   numbers), then the rest; at the end, stops the job with a drained savepoint, which passes the
   end-of-time watermark so every buffered reading is emitted (a bounded run's end).

The local sink (the filesystem connector) commits files only on checkpoints, so what the killed
job wrote after its checkpoint is discarded and written again: exactly once. The job's sinks on
AWS are Firehose deliveries, which are at least once: the rows emitted between the checkpoint and
the kill were already delivered, and are delivered again by the restarted job. The driver
returns those rows (the output at the kill less the output at the checkpoint) so the caller can
land them as Firehose would; the daily landed job removes the copies (lakehouse.pipelines.run_landed).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import job, sql
from .local import FILES, sources_on_files

# A folder the filesystem source watches, scanned for new files this often.
WATCHED = {"source.monitor-interval": "100ms"}
# How long the driver waits for the job to read a chunk or to settle before it gives up.
WAIT_SECONDS = 120


@dataclass
class Restart:
    """What the kill and the restart met."""

    checkpoint_id: int
    readings_in_checkpoint: int  # readings the source had read when the checkpoint was taken
    readings_read_again: int  # read after the checkpoint, before the kill: read again after the restart
    redelivered: dict[str, list[str]] = field(default_factory=dict)  # sink -> rows emitted after the checkpoint, before the kill

    def as_json(self) -> dict[str, Any]:
        return {"checkpoint_id": self.checkpoint_id, "readings_in_checkpoint": self.readings_in_checkpoint,
                "readings_read_again": self.readings_read_again, "redelivered": {k: len(v) for k, v in self.redelivered.items()}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JobRest:
    """The mini cluster's REST API on 127.0.0.1: the job's metrics and a checkpoint on demand."""

    def __init__(self, port: int, job_id: str):
        self.base, self.job_id = f"http://127.0.0.1:{port}/jobs/{job_id}", job_id

    def _call(self, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method="GET" if body is None else "POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def source_records(self, table: str) -> int:
        """Records the source of `table` has emitted (its operator's numRecordsOut)."""
        pattern = re.compile(rf"Source__{re.escape(table)}\[\d+\]\.numRecordsOut$")
        for vertex in self._call("")["vertices"]:
            if vertex["name"].startswith(f"Source: {table}["):
                names = [m["id"] for m in self._call(f"/vertices/{vertex['id']}/metrics") if pattern.search(m["id"])]
                if names:
                    return int(self._call(f"/vertices/{vertex['id']}/metrics?get={names[0]}")[0]["value"])
        return 0

    def checkpoint(self) -> int:
        """Takes a full checkpoint now and returns its id once it has completed."""
        trigger = self._call("/checkpoints", {"checkpointType": "FULL"})["request-id"]
        status = wait_for(lambda: self._call(f"/checkpoints/{trigger}"), lambda s: s["status"]["id"] == "COMPLETED", "the checkpoint to complete")
        operation = status["operation"]
        if "failure-cause" in operation:
            raise RuntimeError(f"the checkpoint failed: {operation['failure-cause']}")
        return int(operation["checkpointId"])


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            value = probe()
            if done(value):
                return value
        except OSError:  # the REST endpoint starting, or the metric not fetched yet
            value = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {WAIT_SECONDS} s waiting for {what} (last seen: {value})")
        time.sleep(0.1)


def output_lines(directory: Path) -> list[str]:
    """Every complete line the sink has written under `directory`: committed files and the
    in-progress ones (hidden, '.part-...inprogress...'), which a Firehose sink would already have
    delivered."""
    if not directory.exists():
        return []
    lines = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        lines.extend(text[: text.rfind("\n") + 1].splitlines())
    return lines


def settled(paths: list[Path]) -> Callable[[], tuple[int, ...]]:
    """A probe of the outputs' line counts; the job has settled when they stay the same for 1.5 s
    (four probes 0.5 s apart): a busy machine can take a moment to carry a chunk to the sink."""
    def probe() -> tuple[int, ...]:
        counts = tuple(len(output_lines(p)) for p in paths)
        for _ in range(3):
            time.sleep(0.5)
            if tuple(len(output_lines(p)) for p in paths) != counts:
                return ()
        return counts
    return probe


def run_killed_and_restored(
    readings_file: str,
    devices_file: str,
    work_dir: str,
    out_path: str,
    rejected_path: str,
    *,
    chunks: int = 10,
    checkpoint_after: int = 4,
    kill_after: int = 6,
    idle_timeout_seconds: int = 1,
    **settings: int,
) -> Restart:
    """Runs the job over the readings (JSON lines in arrival order), killed after `kill_after` of
    `chunks` chunks and restarted from the checkpoint taken after `checkpoint_after`. The sinks
    commit under out_path and rejected_path as run_on_files's do. settings: sources_on_files's.
    The device stream goes idle (idle_timeout_seconds) before the first chunk, so the join emits
    as readings come, as it does on a stream whose device updates are rare."""
    if not 0 < checkpoint_after < kill_after < chunks:
        raise ValueError(f"need 0 < checkpoint_after ({checkpoint_after}) < kill_after ({kill_after}) < chunks ({chunks})")
    lines = Path(readings_file).read_text(encoding="utf-8").splitlines(keepends=True)
    if len(lines) < chunks:
        raise ValueError(f"{len(lines)} readings cannot make {chunks} chunks")
    size = -(-len(lines) // chunks)
    parts = [lines[i * size:(i + 1) * size] for i in range(chunks)]
    work = Path(work_dir)
    shutil.rmtree(work, ignore_errors=True)
    readings_dir, devices_dir, checkpoints = work / "readings", work / "devices", work / "checkpoints"
    readings_dir.mkdir(parents=True)
    devices_dir.mkdir()
    shutil.copy(devices_file, devices_dir / "part-0.json")
    device_lines = len(Path(devices_file).read_text(encoding="utf-8").splitlines())
    outputs = {"enriched": Path(out_path), "rejected": Path(rejected_path)}
    fed = 0

    def start(recovery: str | None) -> tuple[Any, JobRest]:
        port = free_port()
        configuration = {
            "rest.address": "127.0.0.1", "rest.bind-address": "127.0.0.1", "rest.bind-port": str(port),
            "metrics.fetcher.update-interval": "100",
            # Periodic checkpoints stay off (an hour): the driver takes the one it restores from.
            "execution.checkpointing.interval": "1 h",
            "execution.checkpointing.dir": checkpoints.as_uri(),
            "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
            **({"execution.state-recovery.path": recovery} if recovery else {}),
        }
        env = sources_on_files(str(readings_dir), str(devices_dir), source_options=WATCHED, configuration=configuration,
                               idle_timeout_seconds=idle_timeout_seconds, **settings)
        job.define_sinks(env, {**FILES, "path": out_path}, {**FILES, "path": rejected_path})
        client = job.statement_set(env).execute().get_job_client()
        rest = JobRest(port, str(client.get_job_id()))
        # The device updates read (a restored source has read them already), then idle.
        wait_for(lambda: rest.source_records(sql.DEVICES_ENVELOPE_TABLE), lambda n: n >= (0 if recovery else device_lines), "the device updates to be read")
        time.sleep(idle_timeout_seconds + 1)
        return client, rest

    def feed(rest: JobRest, upto: int, read_before: int) -> None:
        """Chunks fed .. upto-1, each once the source has read the one before."""
        nonlocal fed
        for index in range(fed, upto):
            temporary = readings_dir / f".chunk-{index:03d}.json.writing"  # hidden: the source skips it until renamed
            temporary.write_text("".join(parts[index]), encoding="utf-8")
            temporary.rename(readings_dir / f"chunk-{index:03d}.json")
            read_before += len(parts[index])
            wait_for(lambda: rest.source_records(sql.READINGS_TABLE), lambda n, want=read_before: n >= want, f"the source to read chunk {index}")
            fed = index + 1
        wait_for(settled(list(outputs.values())), bool, "the job to settle")

    killed, rest = start(None)
    try:
        feed(rest, checkpoint_after, 0)
        checkpoint_id = rest.checkpoint()
        at_checkpoint = {name: output_lines(path) for name, path in outputs.items()}
        feed(rest, kill_after, sum(len(p) for p in parts[:checkpoint_after]))
        at_kill = {name: output_lines(path) for name, path in outputs.items()}
    finally:
        killed.cancel().result()
    # The chunks read after the checkpoint go again, in order, as the stream delivers them again.
    for index in range(checkpoint_after, kill_after):
        (readings_dir / f"chunk-{index:03d}.json").unlink()
    fed = checkpoint_after
    checkpoint = next(checkpoints.glob(f"*/chk-{checkpoint_id}"))
    restored, rest = start(str(checkpoint))
    feed(rest, chunks, 0)
    restored.stop_with_savepoint(True, (work / "savepoints").as_uri()).result()
    redelivered = {name: list((Counter(at_kill[name]) - Counter(at_checkpoint[name])).elements()) for name in outputs}
    return Restart(checkpoint_id, sum(len(p) for p in parts[:checkpoint_after]), sum(len(p) for p in parts[checkpoint_after:kill_after]), redelivered)
