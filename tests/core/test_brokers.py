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
