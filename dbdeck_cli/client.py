"""A small JSON client for /api/v1/ on urllib: bearer token, timeouts, problem+json as ApiError."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, BinaryIO

TIMEOUT_S = 60.0
MAX_RATE_WAIT_S = 60
CHUNK = 64 * 1024


class ApiError(Exception):
    """An answer other than success, with the server's message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Client:
    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT_S) -> None:
        self.base = url.rstrip("/") + "/api/v1"
        self.root = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        full = (
            path
            if path.startswith(("http://", "https://"))
            else (self.root if path.startswith("/api/") else self.base) + path
        )
        if query:
            pairs = [
                (k, v)
                for k, vs in query.items()
                for v in (vs if isinstance(vs, list | tuple) else [vs])
                if v is not None
            ]
            full += ("&" if "?" in full else "?") + urllib.parse.urlencode(pairs)
        return full

    def _open(self, method: str, url: str, body: Any = None) -> Any:
        if not url.startswith(("http://", "https://")):
            raise ApiError(0, f"{self.root} is not an http(s) URL; log in with the address you open in a browser.")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for _ in range(3):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
            try:
                return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 (http(s) URLs only)
            except urllib.error.HTTPError as exc:
                wait = exc.headers.get("Retry-After", "")
                if exc.code == 429 and wait.isdigit() and int(wait) <= MAX_RATE_WAIT_S:
                    time.sleep(int(wait))
                    continue
                raise ApiError(exc.code, _detail(exc)) from None
            except urllib.error.URLError as exc:
                raise ApiError(0, f"Could not reach {self.root}: {exc.reason}. Check the URL (dbdeck login).") from None
            except TimeoutError:
                raise ApiError(0, f"{self.root} did not answer within {self.timeout:g} s.") from None
        raise ApiError(429, "Still rate limited after waiting; try again later.")

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        if not self.base.startswith(("http://", "https://")):
            raise ApiError(
                0, f"{self.root} is not an http(s) URL; run dbdeck login with the address you open in a browser."
            )
        with self._open(method, self.url(path, query), body) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None, **query: Any) -> Any:
        return self.call("POST", path, body if body is not None else {}, **query)

    def download(self, path: str, out: BinaryIO, progress: Callable[[int], None] | None = None, **query: Any) -> int:
        """Stream a file to `out` in chunks; the number of bytes written."""
        written = 0
        with self._open("GET", self.url(path, query)) as response:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                written += len(chunk)
                if progress:
                    progress(written)
        return written


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    return f"HTTP {exc.code} {exc.reason}"
