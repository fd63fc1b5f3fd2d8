"""What the API sends and takes. Secrets appear only in the input schemas (write-only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel


class Out(BaseModel):
    """What the API answers. Plain pydantic models: the responses are built as dicts, so they need
    none of django-ninja's attribute lookups on ORM objects (which cost more than the page itself)."""


class Problem(Out):
    """An error as RFC 9457 problem details; `detail` is the message the page would show."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


class TeamOut(Out):
    id: int
    name: str


class LastCheck(Out):
    ok: bool | None
    message: str
    at: dt.datetime | None


class ConnectionOut(Out):
    id: int
    name: str
    team: TeamOut
    engine: str
    engine_name: str
    host: str
    port: int | None
    database: str
    username: str
    readonly_username: str
    production: bool
    options: dict[str, Any]
    role: str = Field(description="Your effective role: the lower of your role and the token's ceiling.")
    has_secret: bool = Field(description="Whether a password is saved; the password itself is never returned.")
    has_readonly_secret: bool
    capabilities: list[str]
    last_check: LastCheck


class ConnectionList(Out):
    items: list[ConnectionOut]
    next_cursor: str | None


class ConnectionIn(Schema):
    """A new connection. `secret` and `readonly_secret` are write-only."""

    team: int
    name: str = Field(max_length=100)
    engine: str
    host: str = ""
    port: int | None = Field(None, ge=1, le=65535)
    database: str = ""
    username: str = ""
    secret: str = Field("", description="Password or secret key; write-only.")
    readonly_username: str = ""
    readonly_secret: str = Field("", description="Optional read-only password for viewers; write-only.")
    production: bool = False
    tls_mode: str = ""
    connect_timeout: float | None = Field(None, ge=0.5, le=60)
    statement_timeout: float | None = Field(None, ge=0.5, le=3600)
    options: dict[str, str] = Field(default_factory=dict, description="The engine's own options (see docs/engines.md).")


class ConnectionPatch(Schema):
    """Fields to change; absent fields keep their value, an empty `secret` keeps the saved one."""

    name: str | None = Field(None, max_length=100)
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    database: str | None = None
    username: str | None = None
    secret: str | None = Field(None, description="Write-only.")
    clear_secret: bool = False
    readonly_username: str | None = None
    readonly_secret: str | None = Field(None, description="Write-only.")
    production: bool | None = None
    tls_mode: str | None = None
    connect_timeout: float | None = Field(None, ge=0.5, le=60)
    statement_timeout: float | None = Field(None, ge=0.5, le=3600)
    options: dict[str, str] | None = None


class CheckOut(Out):
    ok: bool
    message: str
    version: str
    latency_ms: float | None
    kind: str


class NamespaceOut(Out):
    name: str
    detail: str


class NamespaceList(Out):
    items: list[NamespaceOut]
    next_cursor: str | None


class ObjectOut(Out):
    name: str
    kind: str
    estimated_rows: int | None
    size_bytes: int | None
    detail: str
    extra: dict[str, Any]


class Listing(Out):
    items: list[ObjectOut]
    next_cursor: str | None = Field(description="Pass back as the listing's cursor parameter for the next batch.")
    notice: str
    scanned: int | None


class Cell(Out):
    """A value as the grid shows it: `kind` is null, empty, text, number, bool, binary, json, date or other."""

    kind: str
    text: str
    cut: bool = Field(description="True when the value was shortened to the page's byte cap.")
    length: int | None


class ColumnOut(Out):
    name: str
    type: str
    nullable: bool
    primary_key: bool


class RowsPage(Out):
    columns: list[ColumnOut]
    rows: list[list[Cell]]
    keys: list[str] = Field(description="Each row's key token, for the row endpoint.")
    next_cursor: str | None = Field(description="Pass as `after` for the next page.")
    prev_cursor: str | None = Field(description="Pass as `before` for the previous page.")
    notice: str
    estimated_rows: int | None
    key_kind: str


class CountOut(Out):
    count: int


class RowOut(Out):
    key: str
    values: dict[str, Cell]


class KeyValueOut(Out):
    key: str = Field(description="The key as escaped text, as the key endpoint takes it.")
    type: str
    ttl: int | None
    length: int | None
    memory: int | None
    encoding: str
    items: list[list[Cell]]
    next_cursor: str | None


class ObjectMetaOut(Out):
    bucket: str
    key: str
    size: int
    modified: dt.datetime | None
    etag: str
    content_type: str
    storage_class: str
    metadata: dict[str, str]


class FilterIn(Schema):
    column: str
    op: str = Field(description="eq, ne, lt, gt, contains, startswith, isnull, notnull or in.")
    value: str = ""


class ExportIn(Schema):
    """What to export (the grid's view) and how."""

    ns: str = ""
    obj: str
    filters: list[FilterIn] = Field(default_factory=list, max_length=20)
    sort: str = ""
    desc: bool = False
    columns: list[str] = Field(default_factory=list, max_length=2000)
    q: str = Field("", description="MongoDB: an Extended JSON filter.")
    proj: str = ""
    msort: str = ""
    format: str = Field("csv", description="csv, jsonl or (SQL engines) sql.")
    max_rows: int | None = Field(None, ge=1)
    csv_mode: str = Field("", description="neutralised (default) or raw.")


class ExportOut(Out):
    id: int
    connection: int
    status: str
    ns: str
    obj: str
    format: str
    mode: str
    rows_written: int
    bytes_written: int
    estimated_rows: int | None
    percent: int | None
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download: str | None = Field(description="Where to fetch the file once the status is done.")


class ExportList(Out):
    items: list[ExportOut]
    next_cursor: str | None


class AuditOut(Out):
    id: int
    at: dt.datetime
    actor: str
    team: str | None
    connection: int | None
    action: str
    target: str
    detail: dict[str, Any]
    ip: str | None


class AuditList(Out):
    items: list[AuditOut]
    next_cursor: str | None


class TokenOut(Out):
    name: str
    hint: str
    ceiling: str
    team: str | None
    expires_at: dt.datetime


class RateLimit(Out):
    limit: int
    window_seconds: int


class MeOut(Out):
    username: str
    superuser: bool
    token: TokenOut | None
    rate_limit: RateLimit
