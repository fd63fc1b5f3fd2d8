"""The command families: session (login, whoami), browse (connections, rows, export), jobs (query, backups, slow)."""
