"""The S3-compatible object stores engine: adapter.py is registered in connections.engines.ENGINES."""
