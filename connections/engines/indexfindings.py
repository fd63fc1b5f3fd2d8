"""Findings every engine computes the same way from its index list: duplicates and prefixes.

An index is a duplicate of another on the same table with the same columns in the same
order (and the same uniqueness, method and predicate, which engines fold into `key`);
it is a prefix when its columns start another's and it enforces nothing itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from connections.engines.results import IndexFinding, IndexUsage


def duplicates_and_prefixes(
    indexes: Iterable[IndexUsage],
    drop: Callable[[IndexUsage], str],
    key: Callable[[IndexUsage], object] = lambda index: None,
) -> list[IndexFinding]:
    by_table: dict[tuple[str, str], list[IndexUsage]] = {}
    for index in indexes:
        by_table.setdefault((index.namespace, index.table), []).append(index)
    found: list[IndexFinding] = []
    for (ns, table), group in by_table.items():
        flagged: set[str] = set()
        ordered = sorted(group, key=lambda i: (not i.primary, not i.backs_constraint, not i.unique, i.name))
        for i, keep in enumerate(ordered):
            for other in ordered[i + 1 :]:
                if other.name in flagged or keep.name in flagged or not other.valid or not keep.valid:
                    continue
                if keep.columns == other.columns and key(keep) == key(other) and not other.backs_constraint:
                    flagged.add(other.name)
                    found.append(
                        IndexFinding(
                            "duplicate",
                            ns,
                            table,
                            other.name,
                            f"the same columns ({', '.join(other.columns)}) as {keep.name}",
                            other.size_bytes,
                            drop(other),
                        )
                    )
        for small in group:
            if small.name in flagged or small.unique or small.primary or small.backs_constraint or not small.valid:
                continue
            for big in group:
                if (
                    big is not small
                    and big.valid
                    and len(big.columns) > len(small.columns)
                    and big.columns[: len(small.columns)] == small.columns
                    and key(big) == key(small)
                ):
                    flagged.add(small.name)
                    found.append(
                        IndexFinding(
                            "prefix",
                            ns,
                            table,
                            small.name,
                            f"({', '.join(small.columns)}) is a prefix of {big.name} ({', '.join(big.columns)})",
                            small.size_bytes,
                            drop(small),
                        )
                    )
                    break
    return found


def index_name(table: str, columns: tuple[str, ...], limit: int = 63) -> str:
    """A readable name for a new index, cut to the engine's identifier length (bytes)."""
    base = "_".join((table, *columns, "idx"))
    raw = base.encode()
    if len(raw) <= limit:
        return base
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return raw[: limit - 9].decode(errors="ignore") + "_" + digest
