"""Every parameter the explorer reads arrives through a form: grid state, row, key and object edits, exports.

A form that does not validate is a 400 naming what is wrong: `valid()` raises ValidationError,
which explorer_view answers with the error page. Numbers are parsed by explorer/numbers.py and
page and row tokens by `cursor.decode(token, shape=...)`, both inside `clean_` methods, so a
view only ever sees values of the right kind.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from django import forms
from django.core.exceptions import ValidationError

from connections.engines import EngineError, cursor
from connections.engines.browse import DEFAULT_LIMIT, FILTER_OPS, Filter, PageRequest, TableInfo
from connections.models import Connection
from explorer import numbers

MAX_PARAM_CHARS = 10_000  # names, prefixes, filters: far past any real one
MAX_VALUE_CHARS = 10_000_000  # one edited value or document
MAX_KEY_CHARS = 100_000  # a Redis key as escaped text
MAX_FILTERS = 20
MAX_COLUMNS = 2_000
MAX_PAGE_SIZE = 500
PAGE_SIZES = (25, 50, 100, 200, 500)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3's own limit for SigV4
MAX_UPLOAD_BYTES = 5 * 1024**3
REDIS_TYPES = ["", "string", "hash", "list", "set", "zset", "stream", "ReJSON-RL"]
KEY_ACTIONS = ["set", "rename", "expire", "delete"]
MEMBER_ACTIONS = ["hset", "hdel", "lset", "rpush", "lrem", "sadd", "srem", "zadd", "zrem", "xadd", "xdel"]
VALUE_POSITION = re.compile(r"[0-9]{1,20}(?:-[0-9]{1,20})?")  # a list offset, a SCAN cursor or a stream entry id


@contextmanager
def refused_as_form_error() -> Iterator[None]:
    """The strict parsers' refusals (a number that is not one, a damaged token) as form errors."""
    try:
        yield
    except numbers.BadNumber as exc:
        raise ValidationError(str(exc)) from None
    except EngineError as exc:
        raise ValidationError(exc.message) from None


class Parameter(forms.Field):
    """A query or form parameter, read and never rendered: a form's copy of it is shallow.

    Django deep-copies every field (widget, validators, messages) for every form it builds; a grid
    form of fifteen such fields spent a quarter of a millisecond per page on it. Nothing mutates
    a parameter's attributes in place (a form that changes one assigns a new value).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return copy.copy(self)


class Text(Parameter):
    """Text exactly as sent: not stripped, NUL passed on (the database decides), at most `max_length` characters.

    An absent parameter cleans to `absent` ("" unless asked), so a view can tell "not given" from "empty".
    """

    def __init__(
        self, label: str, *, max_length: int = MAX_PARAM_CHARS, absent: str | None = "", **kwargs: Any
    ) -> None:
        self.max_length, self.absent = max_length, absent
        kwargs.setdefault("required", False)
        super().__init__(label=label, **kwargs)

    def to_python(self, value: Any) -> str | None:
        return self.absent if value is None else str(value)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and len(value) > self.max_length:
            raise ValidationError(f"The {self.label} is longer than {self.max_length:,} characters.", code="max_length")


class TextList(Parameter):
    """A repeated parameter (`?col=a&col=b`): each value as sent, at most `max_items` of them."""

    widget = forms.MultipleHiddenInput

    def __init__(self, label: str, *, max_items: int, max_length: int = MAX_PARAM_CHARS) -> None:
        self.max_items, self.max_length = max_items, max_length
        super().__init__(label=label, required=False)

    def to_python(self, value: Any) -> list[str]:
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

    def validate(self, value: Any) -> None:
        if len(value) > self.max_items:
            raise ValidationError(f"At most {self.max_items} {self.label} values fit in one view.", code="max_items")
        if any(len(v) > self.max_length for v in value):
            raise ValidationError(f"A {self.label} is longer than {self.max_length:,} characters.", code="max_length")


def choice(label: str, choices: list[str], message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=[(c, c) for c in choices], required=False, error_messages={"invalid_choice": message}
    )


_PLAIN_CLEAN = forms.Field._clean_bound_field


class ExplorerForm(forms.Form):
    def _clean_fields(self) -> None:
        """Django's loop, without a BoundField per field for the plain ones (every grid page runs it).

        These forms are read, never rendered: a plain field (not disabled, cleaning as `Field`
        does: FileField is not) is cleaned from the widget's value as Django's own loop would,
        and the rest go through Django's loop unchanged.
        """
        for name, field in self.fields.items():
            try:
                if field.disabled or type(field)._clean_bound_field is not _PLAIN_CLEAN:
                    self.cleaned_data[name] = field._clean_bound_field(self[name])
                else:
                    value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
                    self.cleaned_data[name] = field.clean(value)
                if (clean_name := getattr(self, f"clean_{name}", None)) is not None:
                    self.cleaned_data[name] = clean_name()
            except ValidationError as exc:
                self.add_error(name, exc)

    def valid(self) -> Self:
        """This form, validated; otherwise a ValidationError carrying every message (answered with a 400)."""
        if not self.is_valid():
            raise ValidationError([message for errors in self.errors.values() for message in errors])
        return self


class ConfirmedForm(ExplorerForm):
    """A write: on a production connection, the connection's name typed into `confirm`."""

    confirm = Text("confirmation", max_length=1000)

    def __init__(self, *args: Any, connection: Connection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection

    def clean_confirm(self) -> str:
        typed: str = self.cleaned_data["confirm"]
        if self.connection.production and typed != self.connection.name:
            raise ValidationError(
                f"“{self.connection.name}” is a production connection: type its name to confirm this change."
            )
        return typed


# ---- tables and collections --------------------------------------------------------------------
class GridForm(ExplorerForm):
    """The grid's state in the query string, so every view is a bookmarkable URL.

    ?ns=<schema>&obj=<table>&after=<token>|before=<token>&sort=<col>&desc=1&limit=<rows>
     &fc=<col>&fo=<op>&fv=<value> (repeated, one triple per filter; a blank column is the empty row)
     &col=<col> (repeated: shown columns; none = all)
     &q=<json filter>&proj=<json projection>&msort=<json sort>   (MongoDB)
    """

    ns = Text("schema or database", absent=None)
    obj = Text("table or collection")
    after = Text("page link", max_length=cursor.MAX_TOKEN_CHARS)
    before = Text("page link", max_length=cursor.MAX_TOKEN_CHARS)
    sort = Text("sort column")
    desc = choice("direction", ["", "1"], "The direction is desc=1 (descending) or nothing (ascending).")
    limit = Text("page size", max_length=20)
    fc = TextList("filter column", max_items=MAX_FILTERS + 1)
    fo = TextList("filter operator", max_items=MAX_FILTERS + 1)
    fv = TextList("filter value", max_items=MAX_FILTERS + 1)
    col = TextList("column", max_items=MAX_COLUMNS)
    q = Text("filter")
    proj = Text("projection")
    msort = Text("sort")

    def __init__(self, *args: Any, need_object: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if need_object:
            obj = self.fields["obj"]
            obj.required = True
            obj.error_messages = {**obj.error_messages, "required": "Choose a table or collection first."}

    def _token(self, name: str) -> str:
        token: str = self.cleaned_data[name]
        if token:
            with refused_as_form_error():  # refuse a hand-made token before any engine sees it
                cursor.decode(token, shape=cursor.PAGE)
        return token

    def clean_after(self) -> str:
        return self._token("after")

    def clean_before(self) -> str:
        return self._token("before")

    def clean_limit(self) -> int:
        with refused_as_form_error():
            return numbers.parse_int_or(
                self.cleaned_data["limit"], DEFAULT_LIMIT, name="page size", minimum=1, maximum=MAX_PAGE_SIZE
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        filters = []
        for col, op, value in zip(data.get("fc", []), data.get("fo", []), data.get("fv", []), strict=False):
            if not col:
                continue  # the blank row the filter form always offers
            if op not in FILTER_OPS:
                raise ValidationError(f"Choose a filter operator from the list for {col!r}.")
            filters.append(Filter(col, op, value))
        if len(filters) > MAX_FILTERS:
            raise ValidationError(f"At most {MAX_FILTERS} filters fit in one view.")
        data["filters"] = tuple(filters)
        return data

    def page_request(self) -> PageRequest:
        data = self.cleaned_data
        return PageRequest(
            cursor=data["before"] or data["after"] or None,
            direction="prev" if data["before"] else "next",
            sort=data["sort"] or None,
            descending=data["desc"] == "1",
            filters=data["filters"],
            columns=tuple(c for c in data["col"] if c),
            limit=data["limit"],
            query=data["q"],
            projection=data["proj"],
            sort_json=data["msort"],
        )


class RowForm(ExplorerForm):
    """Which table or collection a row page is about (the query string)."""

    ns = Text("schema or database")
    obj = Text("table or collection", required=True, error_messages={"required": "Choose a table or collection first."})


class RowKeyForm(ExplorerForm):
    """The row's key: a token made by the grid, decoded strictly into {column: value}."""

    key = Text(
        "row link",
        max_length=cursor.MAX_TOKEN_CHARS,
        required=True,
        error_messages={"required": "This link does not name a row; open it from the grid again."},
    )

    def clean_key(self) -> dict[str, Any]:
        with refused_as_form_error():
            key: dict[str, Any] = cursor.decode(self.cleaned_data["key"], shape=cursor.KEY)
        return key


class RowValuesForm(ConfirmedForm):
    """A row's new values, one field per column (`v:<column>`, `null:<column>` ticked for NULL), or a document.

    Columns the form did not send are left alone. On a new row, an empty field means "use the
    default" unless `empty:<column>` is ticked.
    """

    def __init__(self, *args: Any, info: TableInfo, new: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.info, self.new = info, new
        if info.key_kind == "document":
            self.fields["document"] = Text("document", max_length=MAX_VALUE_CHARS)
            return
        for column in info.columns:
            self.fields[f"v:{column.name}"] = Text(f"value for {column.name!r}", max_length=MAX_VALUE_CHARS)
            self.fields[f"null:{column.name}"] = forms.BooleanField(required=False)
            if new:
                self.fields[f"empty:{column.name}"] = forms.BooleanField(required=False)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.info.key_kind == "document":
            return {"document": data["document"]}
        values: dict[str, Any] = {}
        for column in self.info.columns:
            name = column.name
            if data[f"null:{name}"]:
                values[name] = None
            elif f"v:{name}" in self.data:
                values[name] = data[f"v:{name}"]
            if self.new and values.get(name) == "" and not data[f"empty:{name}"]:
                del values[name]
        return values


class ExportForm(ExplorerForm):
    format = forms.ChoiceField(
        label="format",
        required=False,
        error_messages={"invalid_choice": "Choose CSV, JSON lines or (for SQL engines) INSERT statements."},
    )
    max_rows = Text("row limit", max_length=40)
    csv_mode = choice("CSV cells", ["", "neutralised", "raw"], "Choose neutralised or raw CSV cells.")

    def __init__(self, *args: Any, formats: list[str], most: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", ""), *[(f, f) for f in formats]]
        self.most = most

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or "csv"

    def clean_max_rows(self) -> int:
        # More than the setting allows is capped, not refused.
        with refused_as_form_error():
            asked = numbers.parse_int_or(self.cleaned_data["max_rows"], self.most, name="row limit", minimum=1)
        return min(asked, self.most)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Neutralising formulas is the default; raw is an explicit choice for machine readers.
        data["csv_raw"] = data.get("format") == "csv" and data.get("csv_mode") == "raw"
        return data


# ---- Redis --------------------------------------------------------------------------------------
class RedisDbForm(ExplorerForm):
    ns = Text("Redis database", max_length=40)

    def clean_ns(self) -> int:
        with refused_as_form_error():
            return numbers.parse_int(
                self.cleaned_data["ns"] or "0", name="Redis database (a small number such as 0)", maximum=10_000
            )


class KeyTreeForm(RedisDbForm):
    sep = Text("separator", max_length=8)
    prefix = Text("prefix")
    pattern = Text("pattern", max_length=1000)
    type = choice("type", REDIS_TYPES, "Choose a Redis type from the list, or any type.")
    scan = Text("scan position", max_length=40)

    def clean_sep(self) -> str:
        return self.cleaned_data["sep"] or ":"

    def clean_scan(self) -> str | None:
        raw = self.cleaned_data["scan"]
        if not raw:
            return None
        with refused_as_form_error():
            return str(numbers.parse_int(raw, name="scan position"))


class KeyForm(RedisDbForm):
    key = Text("key", max_length=MAX_KEY_CHARS, required=True, error_messages={"required": "Choose a key first."})
    cursor = Text("position", max_length=41)

    def clean_cursor(self) -> str | None:
        raw = self.cleaned_data["cursor"]
        if not raw:
            return None
        if not VALUE_POSITION.fullmatch(raw):
            raise ValidationError("That page link is damaged; open the key again from the key list.")
        return raw


class KeyEditForm(KeyForm, ConfirmedForm):
    """One form per change on the key page, all posting here with `action`."""

    action = forms.ChoiceField(
        label="change",
        choices=[(a, a) for a in KEY_ACTIONS + MEMBER_ACTIONS],
        error_messages={"required": "Choose a change.", "invalid_choice": "That change is not one dbdeck makes."},
    )
    value = Text("value", max_length=MAX_VALUE_CHARS)
    field = Text("field", max_length=MAX_VALUE_CHARS)
    new_key = Text("new name", max_length=MAX_KEY_CHARS)
    ttl = Text("time to live", max_length=40)
    score = Text("score", max_length=700)
    index = Text("list index", max_length=40)

    def clean_ttl(self) -> int | None:
        with refused_as_form_error():
            return numbers.parse_int_or_none(self.cleaned_data["ttl"], name="time to live (seconds)")

    def clean_score(self) -> float | None:
        with refused_as_form_error():
            return numbers.parse_float_or_none(self.cleaned_data["score"], name="score")

    def clean_index(self) -> int | None:
        with refused_as_form_error():
            return numbers.parse_int_or_none(self.cleaned_data["index"], name="list index")


# ---- S3 -----------------------------------------------------------------------------------------
class BucketForm(ExplorerForm):
    ns = Text("bucket")
    prefix = Text("prefix")
    token = Text("page link", max_length=MAX_PARAM_CHARS)


class ObjectForm(ExplorerForm):
    ns = Text("bucket", required=True, error_messages={"required": "Choose a bucket and an object first."})
    key = Text("object key", required=True, error_messages={"required": "Choose a bucket and an object first."})


class PresignForm(ObjectForm):
    expires = Text("link lifetime", max_length=40)

    def clean_expires(self) -> int:
        # Longer than S3 allows is capped, not refused: the link simply lives as long as it may.
        with refused_as_form_error():
            asked = numbers.parse_int_or(self.cleaned_data["expires"], 3600, name="link lifetime (seconds)", minimum=1)
        return min(asked, MAX_PRESIGN_SECONDS)


class ObjectDeleteForm(ObjectForm, ConfirmedForm):
    pass


class UploadForm(ConfirmedForm):
    ns = Text("bucket", required=True, error_messages={"required": "Choose a bucket first."})
    prefix = Text("prefix")
    name = Text("name")
    file = forms.FileField(
        allow_empty_file=True, error_messages={"required": "Choose a file to upload.", "invalid": "Choose a file."}
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size and upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("Uploads over 5 GB are not supported from the browser.")
        return upload

    @property
    def key(self) -> str:
        data = self.cleaned_data
        return str(data["prefix"] + (data["name"] or data["file"].name or "upload"))
