"""Container health check for web: GET /healthz from inside the container, healthy only on 200.

A script rather than curl because the slim image has none. The Host header is taken from
DJANGO_ALLOWED_HOSTS, so the check keeps passing when that list does not name localhost.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    # ".example.com" allows example.com and its subdomains; "*" allows anything.
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request("http://127.0.0.1:8000/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - fixed http:// URL
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        # The 503 body names what is down (database or broker); `docker inspect` shows it.
        print(f"/healthz answered {exc.code}: {exc.read(500).decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"/healthz unreachable: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
