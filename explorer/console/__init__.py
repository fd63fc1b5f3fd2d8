"""The query console: sessions hosted in one place (the `console` queue), runs and pages as metadata rows."""
