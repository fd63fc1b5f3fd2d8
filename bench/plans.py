"""The plan page for a ~500-node plan: server time through HTTP against the time to fetch that plan.

The plan is a UNION ALL of 250 small aggregates (an Append over 250 Aggregate -> Seq Scan
pairs: 501 nodes). The reference is the raw psycopg2 EXPLAIN (FORMAT JSON, BUFFERS, SETTINGS)
of the same statement; the page is the saved plan's URL as a browser opens it (the app
reads the saved tree, finds the hot and misestimated nodes, writes hints and renders the
whole tree). Target: the page under 200 ms.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import LiveApp, Result, alternate

BRANCHES = 250


def statement(branches: int = BRANCHES) -> str:
    return " UNION ALL ".join(f"(SELECT count(*) FROM pg_class WHERE relpages = {i})" for i in range(branches))


def postgresql(app: LiveApp, server: Any) -> list[Result]:
    import psycopg2

    from connections.engines import open_adapter
    from connections.engines.capabilities import Explain
    from connections.engines.plantree import plan_to_dict
    from explorer import plans
    from explorer.models import SavedPlan

    text = statement()
    conn = app.connection(server)
    with open_adapter(server.params()) as adapter:
        plan = adapter.get(Explain).explain(text)
    view = plans.read(plan)
    saved = SavedPlan.objects.create(
        connection=conn,
        user=app.user,
        statement=text,
        tree=plan_to_dict(plan),
        raw=plan.raw,
        node_count=view.size,
        root_cost=view.root_cost,
    )
    db = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
    )

    def fetch() -> None:
        with db.cursor() as cur:
            cur.execute("EXPLAIN (FORMAT JSON, BUFFERS, SETTINGS) " + text)
            cur.fetchone()
        db.rollback()

    def in_process() -> None:
        from connections.engines.plantree import plan_from_dict

        plans.render(plans.read(plan_from_dict(saved.tree, saved.raw)))

    path = saved.get_absolute_url()
    body = app.get(path)
    assert body.count(b'class="plan-node') == view.size, "the page must show every node"
    started = time.perf_counter()
    times = alternate({"fetch": fetch, "page": lambda: app.get(path), "render": in_process}, runs=11)
    db.close()
    print(f"  ({view.size} nodes, {len(body) / 1024:.0f} KiB page, measured in {time.perf_counter() - started:.1f} s)")
    return [
        Result(
            f"Plan page, {view.size}-node plan, HTTP GET vs fetching it",
            times["page"],
            times["fetch"],
            "ms",
            "< 200 ms",
        ),
        Result("  of which reading and rendering the tree", times["render"], times["fetch"], "ms", "-"),
    ]
