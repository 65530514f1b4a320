"""The Cosmos stand-in behaves like real Cosmos DB where our code depends on it (the
harness patches two of its deviations: see tests/servers/cosmos_standin.js)."""

from __future__ import annotations

import uuid

from azure.cosmos import PartitionKey
from azure.cosmos import exceptions as cx
from azure.cosmos.aio import CosmosClient


async def test_ids_are_unique_per_full_hierarchical_key(cosmos_server):
    async with CosmosClient(cosmos_server.endpoint, cosmos_server.key) as client:
        db = await client.create_database_if_not_exists(f"p{uuid.uuid4().hex}")
        container = await db.create_container_if_not_exists(
            "c", partition_key=PartitionKey(path=["/userId", "/threadId"], kind="MultiHash")
        )
        for thread in ("t1", "t2"):
            await container.create_item(
                {"id": "session", "userId": "u", "threadId": thread, "v": thread}
            )
        for thread in ("t1", "t2"):
            doc = await container.read_item("session", ["u", thread])
            assert doc["v"] == thread
        try:
            await container.read_item("session", ["u", "t3"])
        except cx.CosmosResourceNotFoundError:
            pass
        else:
            raise AssertionError("a missing id must answer 404")
