"""The Google Cloud Storage engine: adapter.py is registered in connections.engines.ENGINES."""
