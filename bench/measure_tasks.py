"""The task path beside a bare dramatiq actor, on the same Redis, in messages per second.

* **bare**: a dramatiq actor that does nothing, on a RedisBroker;
* **durable**: the platform's path for the same nothing: ``core.tasks.enqueue`` writes
  the task row and sends the message after the commit; the worker runs the actor in
  an app context, claims the row with the conditional UPDATE (to done, ``RETURNING``
  its args), runs the work and commits both in one transaction (``core.send_email``
  with SMTP unset: it only logs).

For each, N messages are produced first (timed: "produce"), then one worker
process's threads consume them (timed: "consume", until the last row is done);
rounds alternate the two and the medians are printed with the ratio.

    .venv/bin/python bench/measure_tasks.py [--messages 2000] [--threads 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, make_app


def _clean(redis: str) -> None:
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis)
    for key in client.scan_iter("dramatiq:*"):
        client.delete(key)


def bare(redis: str, messages: int, threads: int) -> tuple[float, float]:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=redis)
    broker.emit_after("process_boot")
    done = threading.Semaphore(0)

    @dramatiq.actor(broker=broker, queue_name="bench_bare", max_retries=0)
    def nothing(n: int) -> None:
        done.release()

    started = time.perf_counter()
    for n in range(messages):
        nothing.send(n)
    produce = time.perf_counter() - started
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    started = time.perf_counter()
    worker.start()
    for _ in range(messages):
        done.acquire()
    consume = time.perf_counter() - started
    worker.stop()
    broker.close()
    return messages / produce, messages / consume


def _vacuum(app) -> None:
    """VACUUM ANALYZE the task table: each round leaves two dead row versions per task,
    and with autovacuum off (as on the benchmark server) they pile up round after round
    and run after run, slowing every later round's index lookups."""
    from core.db import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE core_task")


def durable(app, messages: int, threads: int, round_no: int) -> tuple[float, float]:
    from sqlalchemy import delete, func, select

    from core.db import db
    from core.models import TaskRecord, TaskStatus
    from core.tasks import enqueue, start_embedded_worker

    with app.app_context():
        db.session.execute(delete(TaskRecord).where(TaskRecord.key.like("bench-task:%")))
        db.session.commit()
        db.session.remove()
    _vacuum(app)
    with app.app_context():
        started = time.perf_counter()
        for n in range(messages):
            enqueue(
                "core.send_email",
                f"bench-task:{round_no}:{n}",
                to="bench@bench.invalid",
                subject="bench",
                body="",
            )
            db.session.commit()  # one task, one transaction, one message: the usual path
        produce = time.perf_counter() - started
        db.session.remove()
    worker = start_embedded_worker(app, threads=threads)
    started = time.perf_counter()
    with app.app_context():
        pending = select(func.count(TaskRecord.id)).where(
            TaskRecord.key.like(f"bench-task:{round_no}:%"),
            TaskRecord.status == TaskStatus.pending,
        )
        while db.session.scalar(pending):
            db.session.rollback()
            time.sleep(0.02)
        consume = time.perf_counter() - started
        db.session.execute(delete(TaskRecord).where(TaskRecord.key.like("bench-task:%")))
        db.session.commit()
    worker.stop()
    return messages / produce, messages / consume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import logging

    _clean(args.redis)
    app = make_app(args.url, BROKER_URL=args.redis, LOG_LEVEL="WARNING")
    logging.getLogger("core.notifications").setLevel(logging.WARNING)
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "durable": []}
    for round_no in range(args.rounds):
        results["bare"].append(bare(args.redis, args.messages, args.threads))
        _clean(args.redis)
        results["durable"].append(durable(app, args.messages, args.threads, round_no))
        _clean(args.redis)
    print(
        f"task path, {args.messages} messages a round, one worker process with "
        f"{args.threads} threads, Redis, {args.rounds} rounds (medians):"
    )
    med = {
        name: (
            statistics.median(p for p, _ in runs),
            statistics.median(c for _, c in runs),
        )
        for name, runs in results.items()
    }
    for name, label in (("bare", "bare dramatiq actor"), ("durable", "durable task path")):
        produce, consume = med[name]
        print(f"  {label:<22} produce {produce:7.0f} msg/s   consume {consume:7.0f} msg/s")
    ratios = [d[1] / b[1] for b, d in zip(results["bare"], results["durable"], strict=True)]
    print(
        f"  consume ratio durable / bare: {statistics.median(ratios):.2f} "
        f"(per round: {', '.join(f'{r:.2f}' for r in ratios)}; goal ≥ 0.8)"
    )


if __name__ == "__main__":
    main()
