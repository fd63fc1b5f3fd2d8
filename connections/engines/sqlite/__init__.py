"""The SQLite engine: adapter.py is registered in connections.engines.ENGINES."""
