"""The MySQL and MariaDB engine: adapter.py is registered in connections.engines.ENGINES."""
