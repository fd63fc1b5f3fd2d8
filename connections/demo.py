"""A demo shop in SQLite: related tables, real-looking rows, sizes that make paging matter.

Deterministic for given arguments (fixed seed, fixed calendar), so screenshots and
tests see the same rows on every machine. Standard library only: the embedded first
run and the tests build it without Django.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import random
import sqlite3
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

# A fixed calendar rather than "now": the same seed must give the same file.
START = int(datetime(2019, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2025, 6, 30, tzinfo=UTC).timestamp())
DAY = 86_400
CHUNK = 10_000

# SQLite turns epoch seconds into ISO 8601 text in C, several times faster than Python.
ISO = "strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch')"
ISO_MS = "strftime('%Y-%m-%dT%H:%M:%fZ', ?, 'unixepoch')"

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    country TEXT NOT NULL,
    created_at TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT 1,
    notes TEXT
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    attributes TEXT -- JSON; TEXT because a JSON type name would get NUMERIC affinity
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    ordered_at TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    shipping_address TEXT
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body TEXT,
    created_at TEXT NOT NULL,
    photo_thumb BLOB
);
-- Deliberately keyless: the explorer has to address these rows by rowid.
CREATE TABLE event_log (
    occurred_at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE VIEW v_order_totals AS
    SELECT o.id AS order_id, o.customer_id, o.status, o.ordered_at,
           COUNT(oi.id) AS item_lines,
           COALESCE(SUM(oi.quantity), 0) AS units,
           COALESCE(SUM(oi.quantity * oi.unit_price_cents), 0) AS items_total_cents,
           o.total_cents
    FROM orders AS o LEFT JOIN order_items AS oi ON oi.order_id = o.id
    GROUP BY o.id;
"""

# Built after the bulk load: filling a b-tree once is much faster than maintaining it per row.
INDEXES = """
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX orders_ordered_at ON orders (ordered_at);
CREATE INDEX orders_open ON orders (status, ordered_at) WHERE status IN ('pending', 'paid');
CREATE INDEX order_items_order_id ON order_items (order_id);
CREATE INDEX order_items_product_id ON order_items (product_id);
CREATE INDEX reviews_product_id ON reviews (product_id);
CREATE INDEX reviews_customer_id ON reviews (customer_id);
"""

# (display, ascii for the e-mail address): apostrophes, diacritics, CJK and RTL on purpose.
FIRST_NAMES = [
    ("Anna", "anna"),
    ("Ben", "ben"),
    ("Chloé", "chloe"),
    ("David", "david"),
    ("Elena", "elena"),
    ("Fatima", "fatima"),
    ("George", "george"),
    ("Hana", "hana"),
    ("Ivan", "ivan"),
    ("Jürgen", "juergen"),
    ("Kofi", "kofi"),
    ("Laura", "laura"),
    ("Mateus", "mateus"),
    ("Nia", "nia"),
    ("Olga", "olga"),
    ("Priya", "priya"),
    ("Quentin", "quentin"),
    ("Rosa", "rosa"),
    ("Søren", "soren"),
    ("Tomás", "tomas"),
    ("Uma", "uma"),
    ("Vera", "vera"),
    ("Wei", "wei"),
    ("Xavier", "xavier"),
    ("Yuki", "yuki"),
    ("Zoë", "zoe"),
    ("Łucja", "lucja"),
    ("Ngọc", "ngoc"),
    ("Émile", "emile"),
    ("Mary-Kate", "marykate"),
    ("太郎", "taro"),
    ("美咲", "misaki"),
    ("سارة", "sara"),
    ("Олег", "oleg"),
    ("John", "john"),
]
LAST_NAMES = [
    ("Smith", "smith"),
    ("Müller", "mueller"),
    ("García", "garcia"),
    ("Nguyễn", "nguyen"),
    ("O'Brien", "obrien"),
    ("Kowalski", "kowalski"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Silva", "silva"),
    ("Andersson", "andersson"),
    ("Tanaka", "tanaka"),
    ("Okafor", "okafor"),
    ("Patel", "patel"),
    ("van der Berg", "vanderberg"),
    ("Ødegård", "odegard"),
    ("Łukasiewicz", "lukasiewicz"),
    ("Schröder", "schroeder"),
    ("Johnson", "johnson"),
    ("Novák", "novak"),
    ("Haddad", "haddad"),
    ("山田", "yamada"),
    ("李", "li"),
    ("Иванова", "ivanova"),
    ("D'Angelo", "dangelo"),
    ("Brown", "brown"),
]
# Country, relative share of customers, cities.
COUNTRIES = [
    ("US", 30, ["Austin", "Portland", "Chicago", "Boston"]),
    ("DE", 14, ["Berlin", "München", "Köln", "Hamburg"]),
    ("GB", 10, ["London", "Leeds", "Bristol"]),
    ("FR", 9, ["Paris", "Lyon", "Nantes"]),
    ("JP", 7, ["東京", "大阪", "Sapporo"]),
    ("BR", 6, ["São Paulo", "Recife", "Curitiba"]),
    ("IN", 6, ["Bengaluru", "Pune", "Mumbai"]),
    ("PL", 5, ["Kraków", "Gdańsk", "Łódź"]),
    ("VN", 4, ["Hà Nội", "Đà Nẵng"]),
    ("SE", 4, ["Malmö", "Göteborg"]),
    ("EG", 3, ["القاهرة", "Alexandria"]),
    ("NZ", 2, ["Wellington", "Auckland"]),
]
STREETS = ["Main St", "Hauptstraße", "Rue de la Paix", "High Street", "Calle Mayor", "Ulica Długa", "Oak Avenue"]
NOTES = [
    "VIP — handle with care",
    'Prefers "express" shipping',
    "Call before delivery\nGate code 4711",
    "Leave at the <back door> & ring twice",
    "Fraud check passed 2023-04-01",
    "Ex-employee; discount code EMP-15",
    "🎂 birthday in March",
    "Asked for invoices in German",
    "duplicate account? see support ticket #88231",
    "x" * 600,
]
CATEGORIES = {
    "kitchen": ["Knife", "Pan", "Kettle", "Mug", "Cutting Board", "Espresso Cup"],
    "garden": ["Hose", "Trowel", "Planter", "Bird Feeder", "Watering Can"],
    "office": ["Notebook", "Desk Lamp", "Fountain Pen", "Stapler", "Monitor Arm"],
    "toys": ["Puzzle", "Kite", "Yo-yo", "Building Set", "Plush Bear"],
    "outdoor": ["Tent", "Headlamp", "Water Bottle", "Backpack", "Camp Stove"],
    "apparel": ["T-Shirt", "Rain Jacket", "Beanie", "Socks", "Scarf"],
}
ADJECTIVES = ["Classic", "Compact", "Deluxe", "Everyday", "Pro", "Eco", "Vintage", "Ultralight", "Nordic"]
ODD_PRODUCT_NAMES = [
    'The "Everyday" Mug',
    "Crème brûlée torch",
    "牛刀 chef's knife",
    "50% <sale> bundle",
    "Ø 30 cm pan",
]
COLORS = ["black", "white", "red", "sage", "navy", "oak", "terracotta"]
REVIEW_BODIES = [
    "Exactly as described.",
    "Arrived late but works fine.",
    "Sehr gut verarbeitet, gerne wieder!",
    "Não gostei da cor.",
    "Broke after two weeks :(",
    "Five stars ★★★★★",
    "とても良いです",
    "Would buy again; my kids love it",
    'Says "dishwasher safe" — it is not.',
    "",
]
# Level, message, upper bound of the number in it.
EVENTS = [
    ("INFO", "user {n} logged in", 20_000),
    ("INFO", "order {n} paid via card", 250_000),
    ("INFO", "nightly export finished in {n} ms", 90_000),
    ("WARNING", "payment gateway slow: {n} ms", 30_000),
    ("WARNING", "stock for product {n} below threshold", 2_000),
    ("ERROR", "webhook delivery failed for order {n}: HTTP 502", 250_000),
    ("ERROR", "SMTP timeout sending receipt for order {n}", 250_000),
    ("DEBUG", "cache miss for key 'cart:{n}'", 20_000),
]


def build_demo_sqlite(path: Path, *, orders: int = 250_000, seed: int = 7) -> dict[str, int]:
    """Build the demo shop at `path`, replacing any file there atomically; return rows per table."""
    if orders < 1:
        raise ValueError("The demo needs at least one order.")
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    if tmp == path:
        tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a half-built leftover from an interrupted run
    rng = random.Random(seed)
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            # Nothing to protect during the build: on failure the temp file is simply thrown away.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA cache_size = -65536")
            db.executescript(SCHEMA)
            db.execute("BEGIN")
            counts = _fill(db, rng, orders)
            db.execute("COMMIT")
            db.executescript(INDEXES)
            db.execute("ANALYZE")  # sqlite_stat1 gives the explorer its row estimates
        finally:
            db.close()
        # synchronous=OFF skipped every fsync; one here so a crash cannot leave a torn file
        # at `path`, which the caller would take as already built.
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _fill(db: sqlite3.Connection, rng: random.Random, n_orders: int) -> dict[str, int]:
    n_customers = min(20_000, max(50, n_orders // 12))
    n_products = min(2_000, max(20, n_orders // 100))
    n_events = min(4_000, max(100, n_orders // 50))

    created = _growth_times(rng, n_customers, START, END - 30 * DAY)
    countries = rng.choices([c[0] for c in COUNTRIES], weights=[c[1] for c in COUNTRIES], k=n_customers)
    cities = {code: towns for code, _, towns in COUNTRIES}
    addresses = [_address(rng, country, cities[country]) for country in countries]
    db.executemany(
        f"INSERT INTO customers (id, email, full_name, country, created_at, is_active, notes) "
        f"VALUES (?, ?, ?, ?, {ISO}, ?, ?)",
        _customers(rng, created, countries),
    )

    prices = [0] * (n_products + 1)
    db.executemany(
        "INSERT INTO products (id, sku, name, category, price_cents, attributes) VALUES (?, ?, ?, ?, ?, ?)",
        _products(rng, n_products, prices),
    )
    # A few best-sellers and a long tail, as in any shop.
    product_ids = list(range(1, n_products + 1))
    popularity = list(_cumulative(1.0 / (rank + 5) for rank in range(n_products)))
    rng.shuffle(product_ids)

    counts = {"customers": n_customers, "products": n_products, "orders": 0, "order_items": 0, "reviews": 0}
    order_sql = f"INSERT INTO orders VALUES (?, ?, ?, {ISO}, ?, ?)"
    item_sql = "INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)"
    review_sql = (
        "INSERT INTO reviews (product_id, customer_id, rating, body, created_at, photo_thumb) "
        f"VALUES (?, ?, ?, ?, {ISO}, ?)"
    )
    span = END - START - DAY
    recent = END - 14 * DAY
    popular_total = popularity[-1]
    # The hot loop draws with random() and bisect directly: random.choices/randrange cost
    # about twice as much per call, and this loop makes millions of draws.
    random_, find = rng.random, bisect.bisect_right
    more_lines = [0.62, 0.88, 0.96, 0.99]  # 1 to 5 lines, about 1.55 per order
    for first in range(1, n_orders + 1, CHUNK):
        orders: list[tuple[object, ...]] = []
        items: list[tuple[int, int, int, int]] = []
        reviews: list[tuple[object, ...]] = []
        for order_id in range(first, min(first + CHUNK, n_orders + 1)):
            # Ids grow with time and the shop grows: more orders per day later on.
            at = START + DAY + int(span * math.sqrt(order_id / n_orders)) - int(random_() * 3600)
            customer = 1 + int(random_() * find(created, at))  # only customers who exist by then
            status = _status(random_(), at >= recent)
            total = 0
            for _ in range(1 + find(more_lines, random_())):
                product = product_ids[find(popularity, random_() * popular_total)]
                quantity = 1 if random_() < 0.8 else 2 + int(random_() * 4)
                price = prices[product] if random_() < 0.9 else prices[product] * 85 // 100
                total += quantity * price
                items.append((order_id, product, quantity, price))
                if status == "delivered" and random_() < 0.07:
                    reviews.append(_review(rng, product, customer, at))
            roll = random_()
            address = None if roll < 0.02 else addresses[customer - 1] if roll < 0.92 else _gift_address(rng)
            orders.append((order_id, customer, status, at, total, address))
        db.executemany(order_sql, orders)
        db.executemany(item_sql, items)
        db.executemany(review_sql, reviews)
        counts["orders"] += len(orders)
        counts["order_items"] += len(items)
        counts["reviews"] += len(reviews)

    counts["event_log"] = db.executemany(
        f"INSERT INTO event_log (occurred_at, level, message) VALUES ({ISO_MS}, ?, ?)", _events(rng, n_events)
    ).rowcount
    return counts


def _growth_times(rng: random.Random, n: int, start: int, end: int) -> list[int]:
    """Increasing epoch seconds, denser towards the end; the first one at `start`."""
    span = end - start
    times = [start + int(span * math.sqrt(i / n)) + rng.randrange(600) for i in range(n)]
    times[0] = start
    times.sort()
    return times


def _cumulative(weights: Iterator[float]) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


def _address(rng: random.Random, country: str, cities: list[str]) -> str:
    street = f"{rng.randrange(1, 400)} {rng.choice(STREETS)}"
    return f"{street}, {rng.randrange(10000, 99999)} {rng.choice(cities)}, {country}"


def _gift_address(rng: random.Random) -> str:
    country, _, cities = rng.choice(COUNTRIES)
    return _address(rng, country, cities)


def _customers(rng: random.Random, created: list[int], countries: list[str]) -> Iterator[tuple[object, ...]]:
    tlds = ["com", "org", "net"]
    for i, (at, country) in enumerate(zip(created, countries, strict=True), start=1):
        first, first_ascii = rng.choice(FIRST_NAMES)
        last, last_ascii = rng.choice(LAST_NAMES)
        roll = rng.random()
        # NULL and '' both mean "no notes" to a person but not to SQL; the grid must show the difference.
        notes = None if roll < 0.55 else "" if roll < 0.70 else rng.choice(NOTES)
        email = f"{first_ascii}.{last_ascii}.{i}@example.{rng.choice(tlds)}"
        yield (i, email, f"{first} {last}", country, at, 0 if rng.random() < 0.08 else 1, notes)


def _products(rng: random.Random, n: int, prices: list[int]) -> Iterator[tuple[object, ...]]:
    categories = list(CATEGORIES)
    for i in range(1, n + 1):
        category = rng.choice(categories)
        name = (
            rng.choice(ODD_PRODUCT_NAMES)
            if rng.random() < 0.02
            else f"{rng.choice(ADJECTIVES)} {rng.choice(CATEGORIES[category])}"
        )
        # Mostly shop prices (49.99, 50.00, 49.95); a few free samples.
        prices[i] = 0 if rng.random() < 0.01 else rng.randrange(2, 300) * 100 - rng.choice([1, 1, 5, 0])
        roll = rng.random()
        if roll < 0.05:
            attributes = None
        elif roll < 0.08:
            attributes = "{}"
        else:
            attributes = json.dumps(
                {
                    "color": rng.choice(COLORS),
                    "weight_g": rng.randrange(20, 5000),
                    "dimensions_cm": [rng.randrange(1, 80) for _ in range(3)],
                    "tags": rng.sample(["new", "bestseller", "eco", "gift", "clearance"], k=rng.randrange(0, 3)),
                    "in_stock": rng.random() < 0.9,
                },
                ensure_ascii=False,
            )
        yield (i, f"{category[:3].upper()}-{i:05d}", name, category, prices[i], attributes)


def _status(roll: float, recent: bool) -> str:
    if recent:
        return "pending" if roll < 0.2 else "paid" if roll < 0.5 else "shipped" if roll < 0.95 else "cancelled"
    return "delivered" if roll < 0.88 else "cancelled" if roll < 0.94 else "refunded" if roll < 0.98 else "shipped"


def _review(rng: random.Random, product: int, customer: int, ordered_at: int) -> tuple[object, ...]:
    rating = rng.choices([1, 2, 3, 4, 5], cum_weights=[6, 10, 20, 45, 100])[0]
    roll = rng.random()
    body = None if roll < 0.2 else rng.choice(REVIEW_BODIES)
    photo = _thumbnail(rng) if rng.random() < 0.08 else None
    return (product, customer, rating, body, min(ordered_at + rng.randrange(3 * DAY, 40 * DAY), END), photo)


def _thumbnail(rng: random.Random, size: int = 8) -> bytes:
    """A real (tiny, noisy) PNG, so a viewer that previews images has something to show."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + rng.randbytes(size * 3) for _ in range(size))  # filter byte 0 per scanline
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _events(rng: random.Random, n: int) -> Iterator[tuple[object, ...]]:
    at = float(END - 90 * DAY)
    step = 90 * DAY / n
    previous: tuple[object, ...] = ()
    for _ in range(n):
        # Keyless tables do get identical rows (retried writes); keep a few so rowid is the only handle.
        if previous and rng.random() < 0.01:
            yield previous
            continue
        at += rng.random() * 2 * step
        level, template, upper = rng.choice(EVENTS)
        previous = (round(min(at, END), 3), level, template.format(n=rng.randrange(1, upper)))
        yield previous
