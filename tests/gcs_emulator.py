"""Runs gcp-storage-emulator as its own command does, minus one cost that makes big prefixes unloadable.

After every write the emulator serializes the metadata of every object it holds into its
`.meta` file (kept in memory with --in-memory, and read back only when it starts), so
loading N objects costs O(N²): 10,000 objects take minutes, 100,000 never finish. In memory
that file is never read again, so this launcher skips writing it; everything the emulator
answers is unchanged.
"""

from __future__ import annotations

import sys

from gcp_storage_emulator import storage
from gcp_storage_emulator.__main__ import main

_write_config = storage.Storage._write_config_to_file


def _write_config_unless_in_memory(self: storage.Storage) -> None:
    if not self._use_memory_fs:
        _write_config(self)


storage.Storage._write_config_to_file = _write_config_unless_in_memory  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
