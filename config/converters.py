"""Path converters. `<id:pk>` is a database id: ASCII digits that fit a signed 64-bit integer.

Django's `<int:...>` matches any run of digits, so /connections/99999999999999999999/
reached the ORM and overflowed in the driver (a 500). A value out of range makes
`to_python` raise ValueError, which Django treats as "no match": a plain 404.
"""

from __future__ import annotations

from django.urls import register_converter

ID_MAX = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError("id out of range")
        return number

    def to_url(self, value: int | str) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
