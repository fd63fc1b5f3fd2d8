"""The API's resources, one module each; every operation goes through api.access."""
