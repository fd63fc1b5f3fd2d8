"""Static files as WhiteNoise stores them (compressed copies beside the originals), each URL built once.

`{% static %}` asks the storage for a URL on every use: base.html alone makes five per page,
at about 15 microseconds each. A name's URL depends only on the name and STATIC_URL, so it is
remembered for the life of the process.
"""

from __future__ import annotations

from whitenoise.storage import CompressedStaticFilesStorage


class StaticStorage(CompressedStaticFilesStorage):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str | None) -> str:
        if name is None:
            return super().url(name)
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = super().url(name)
        return found
