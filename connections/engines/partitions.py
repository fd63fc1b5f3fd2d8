"""The partitions contract: how a table or collection is split (PostgreSQL declarative partitions,
MySQL/MariaDB partitions, MongoDB shard keys), for the navigator. Engines implement it in
their `introspection.py`."""

from __future__ import annotations

from abc import abstractmethod

from connections.engines.base import Capability
from connections.engines.results import PartitionInfo

MAX_PARTITIONS = 2000


class Partitioning(Capability):
    noun = "partitions"

    @abstractmethod
    def partitions(self, ns: str, obj: str) -> PartitionInfo: ...
