"""The Azure Blob Storage engine: adapter.py is registered in connections.engines.ENGINES."""
