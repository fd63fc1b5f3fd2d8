"""`dbdeck`: the command line for the dbdeck API (standard library only, no Django)."""
