"""The broker a URL names: Redis and RabbitMQ carry a message to a real worker."""

from __future__ import annotations

import queue

import dramatiq
import pytest

from core.tasks import BrokerURLError, make_broker
from core.testing.fixtures import amqp_url, require_service
from tests.scheduler.helpers import redis_test_url

REDIS_URL = redis_test_url()
QUEUE = "brokertest"


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request):
    if request.param == "redis":
        url = require_service(REDIS_URL, "Redis")
    else:
        url = require_service(amqp_url(), "RabbitMQ")
    broker = make_broker(url)
    yield broker
    broker.flush(QUEUE)
    broker.close()


@pytest.mark.services
def test_a_message_round_trips_through_a_real_worker(broker):
    received: queue.Queue = queue.Queue()

    def echo(value: str) -> None:
        received.put(value)

    echo_actor = dramatiq.Actor(
        echo, broker=broker, actor_name="brokertest.echo", queue_name=QUEUE, priority=0, options={}
    )
    broker.flush(QUEUE)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        echo_actor.send("你好")
        assert received.get(timeout=20) == "你好"
    finally:
        worker.stop(timeout=10_000)


def test_the_redis_broker_notices_a_dead_worker_within_ten_seconds():
    broker = make_broker("redis://127.0.0.1:6379/14")  # no connection is made here
    assert broker.heartbeat_timeout == 10_000
    assert broker.maintenance_chance == 250_000  # one command in four re-queues dead workers
    assert make_broker("redis://127.0.0.1:6379/14", heartbeat_timeout=5_000).heartbeat_timeout == (
        5_000
    )


def test_no_url_is_the_embedded_broker():
    from dramatiq.brokers.stub import StubBroker

    assert isinstance(make_broker(None), StubBroker)
    assert isinstance(make_broker(""), StubBroker)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("http://user:secret@broker.example:8080/", "not http://"),
        ("kafka://user:secret@broker.example", "not kafka://"),
        ("127.0.0.1:6379", "a URL without a scheme"),
    ],
)
def test_a_bad_url_gets_a_clear_message_without_the_password(url, named):
    with pytest.raises(BrokerURLError) as error:
        make_broker(url)
    message = str(error.value)
    assert "BROKER_URL must start with redis://, rediss:// or amqp://" in message
    assert named in message
    assert "secret" not in message


@pytest.mark.services
def test_rabbitmq_a_message_of_a_closed_channel_never_acknowledges_a_message_not_yet_run():
    """The connection drops while a worker still runs a message; the consumer reconnects.

    The late acknowledgement of the old message must not remove a message of the new
    channel that carries the same delivery number (RabbitMQ numbers each channel from 1):
    that message would be gone from the queue without having run.
    """
    from dramatiq import Message

    broker = make_broker(require_service(amqp_url(), "RabbitMQ"))
    queue_name = "brokertest_channels"
    broker.declare_queue(queue_name)
    broker.flush(queue_name)
    try:
        for text in ("first", "second", "third"):
            broker.enqueue(
                Message(queue_name=queue_name, actor_name="t", args=(text,), kwargs={}, options={})
            )

        def take(consumer):
            for _ in range(50):
                message = next(consumer)
                if message is not None:
                    return message
            raise AssertionError("no message came")

        old = broker.consume(queue_name, prefetch=2, timeout=200)
        first, second = take(old), take(old)  # delivery numbers 1 and 2
        old.ack(first)
        old.close()  # the connection drops: RabbitMQ puts "second" back

        new = broker.consume(queue_name, prefetch=2, timeout=200)
        again, third = take(new), take(new)  # "second" again as 1, "third" as 2
        assert [again.args[0], third.args[0]] == ["second", "third"]

        new.ack(second)  # the worker finishes the old copy of "second" (number 2)
        new.ack(again)
        next(new)  # let the connection carry the acknowledgements out
        new.close()  # "third" was never acknowledged: it must go back to the queue

        after = broker.consume(queue_name, prefetch=2, timeout=200)
        try:
            assert take(after).args[0] == "third"
        finally:
            after.close()
    finally:
        broker.flush(queue_name)
        broker.close()
