"""The PostgreSQL engine: adapter.py is registered in connections.engines.ENGINES."""
