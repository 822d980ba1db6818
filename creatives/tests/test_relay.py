"""The reply relay on the real Redis (TEST_REDIS_URL): one pub/sub connection per event loop feeds every open
stream; a reader gets the whole reply exactly once, whether its entries were written before it started or after."""

import asyncio
import json
import os
from urllib.parse import urlparse

import pytest
from asgiref.sync import async_to_sync

from aicmo.core import redis_clients
from creatives.studio import relay


def _publish(reply_key: str, *values: str, end: bool = False) -> None:
    publisher = relay.ReplyPublisher(reply_key)
    for value in values:
        publisher._add("event", json.dumps({"n": value}))
    if end:
        publisher.end()


def our_pubsub_connections(client) -> list[dict]:
    """This process's relay subscribers (the private Redis serves the other xdist worker too)."""
    return [c for c in client.client_list(_type="pubsub") if c["name"] == relay.connection_name(os.getpid())]


def test_many_open_streams_share_one_pubsub_connection_and_each_gets_its_whole_reply_once(studio_redis):
    keys = [f"r{i}" for i in range(40)]
    _publish("r0", "early-1", "early-2")  # before anyone reads: the reader finds these in the stream

    async def scenario():
        async def read(key: str) -> list[str]:
            return [json.loads(value)["n"] async for burst in relay.reply_bursts_json(key) for value in burst]

        readers = [asyncio.create_task(read(key)) for key in keys] + [asyncio.create_task(read("r0"))]
        for _ in range(100):  # until every reader has subscribed
            listener = relay._listener()
            if len(listener.readers) == len(keys) and all(e.is_set() for e in listener.confirmed.values()):
                break
            await asyncio.sleep(0.02)
        pubsub_clients = our_pubsub_connections(studio_redis)
        subscribers_of_r0 = dict(studio_redis.pubsub_numsub(relay.channel_name("r0")))
        for key in keys:
            await asyncio.to_thread(_publish, key, f"{key}-a", f"{key}-b", end=True)
        answers = await asyncio.wait_for(asyncio.gather(*readers), timeout=20)
        return pubsub_clients, subscribers_of_r0, answers

    pubsub_clients, subscribers_of_r0, answers = async_to_sync(scenario)()

    assert len(pubsub_clients) == 1  # 41 open readers, one connection
    assert subscribers_of_r0 == {relay.channel_name("r0").encode(): 1}  # two readers of r0, one subscription
    assert answers[0] == ["early-1", "early-2", "r0-a", "r0-b"]
    assert answers[-1] == ["early-1", "early-2", "r0-a", "r0-b"]
    assert answers[1:-1] == [[f"{key}-a", f"{key}-b"] for key in keys[1:]]
    assert our_pubsub_connections(studio_redis) == []  # the last reader gone, the connection is closed


def test_a_late_reader_replays_a_finished_reply_from_the_stream(studio_redis):
    _publish("done", "one", "two", end=True)

    async def read():
        return [json.loads(value)["n"] async for burst in relay.reply_bursts_json("done") for value in burst]

    assert async_to_sync(read)() == ["one", "two"]
    assert studio_redis.ttl(relay.stream_key("done")) > 0  # the stream expires on its own


def test_an_entry_whose_message_was_lost_reaches_its_reader_at_the_listeners_next_sweep(studio_redis, monkeypatch):
    monkeypatch.setattr(relay, "RECHECK_S", 0.3)
    monkeypatch.setattr(relay, "SWEEP_S", 0.1)
    other = relay.ReplyPublisher("chatty")

    async def scenario():
        async def read(key: str) -> list[str]:
            return [json.loads(value)["n"] async for burst in relay.reply_bursts_json(key) for value in burst]

        quiet, chatty = asyncio.create_task(read("quiet")), asyncio.create_task(read("chatty"))
        while len(relay._listener().readers) < 2:
            await asyncio.sleep(0.01)
        # Written to the stream without its PUBLISH: the message a reconnecting subscriber misses.
        studio_redis.xadd(relay.stream_key("quiet"), {"event": json.dumps({"n": "lost"})})
        studio_redis.xadd(relay.stream_key("quiet"), {"end": "1"})
        for i in range(8):  # another reply keeps the connection busy meanwhile (the sweep is not a read timeout)
            await asyncio.to_thread(other._add, "event", json.dumps({"n": f"c{i}"}))
            await asyncio.sleep(0.1)
        await asyncio.to_thread(other.end)
        return await asyncio.wait_for(asyncio.gather(quiet, chatty), timeout=5)

    quiet, chatty = async_to_sync(scenario)()
    assert quiet == ["lost"]
    assert chatty == [f"c{i}" for i in range(8)]


def test_a_broken_pubsub_connection_ends_its_readers_and_the_next_reader_opens_a_new_one(studio_redis):
    async def scenario():
        async def read(key: str) -> list[str]:
            return [json.loads(value)["n"] async for burst in relay.reply_bursts_json(key) for value in burst]

        broken = asyncio.create_task(read("broken"))
        while not relay._listener().confirmed.get(relay.channel_name("broken").encode(), asyncio.Event()).is_set():
            await asyncio.sleep(0.01)
        (ours,) = our_pubsub_connections(studio_redis)
        studio_redis.client_kill_filter(_id=ours["id"])
        with pytest.raises(relay.RelayUnavailable):
            await asyncio.wait_for(broken, timeout=5)
        later = asyncio.create_task(read("later"))
        while len(our_pubsub_connections(studio_redis)) != 1:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(_publish, "later", "after", end=True)
        return await asyncio.wait_for(later, timeout=5)

    assert async_to_sync(scenario)() == ["after"]


def test_the_listener_authenticates_with_the_urls_user_and_refuses_clearly_when_it_is_wrong(studio_redis, settings):
    user = f"relay-test-{os.getpid()}"
    studio_redis.execute_command("ACL", "SETUSER", user, "on", ">secret-1", "~*", "&*", "+@all")
    url = urlparse(settings.TEST_REDIS_URL)
    try:
        settings.REDIS_URL = url._replace(netloc=f"{user}:secret-1@{url.hostname}:{url.port}").geturl()
        _publish("authed", "hello", end=True)

        async def read() -> list[str]:
            return [json.loads(value)["n"] async for burst in relay.reply_bursts_json("authed") for value in burst]

        assert async_to_sync(read)() == ["hello"]
        settings.REDIS_URL = url._replace(netloc=f"{user}:wrong@{url.hostname}:{url.port}").geturl()
        redis_clients.forget()
        with pytest.raises(relay.RelayUnavailable, match="WRONGPASS"):
            async_to_sync(read)()
    finally:
        studio_redis.execute_command("ACL", "DELUSER", user)


def test_entries_that_arrive_together_are_read_as_one_burst(studio_redis):
    _publish("bursty", "stored-1", "stored-2")  # in the stream before the reader starts: its first burst

    async def scenario():
        bursts = []

        async def read():
            async for burst in relay.reply_bursts_json("bursty"):
                bursts.append([json.loads(value)["n"] for value in burst])

        reader = asyncio.create_task(read())
        channel = relay.channel_name("bursty").encode()
        while not relay._listener().confirmed.get(channel, asyncio.Event()).is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the reader has passed its first burst on and waits for messages
        _publish("bursty", "live-1", "live-2", "live-3")  # written while this loop is blocked: all queued at once
        await asyncio.wait_for(_wait_for(lambda: len(bursts) == 2), timeout=5)
        _publish("bursty", "alone", end=True)
        await asyncio.wait_for(reader, timeout=5)
        return bursts

    assert async_to_sync(scenario)() == [["stored-1", "stored-2"], ["live-1", "live-2", "live-3"], ["alone"]]


async def _wait_for(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)
