-- sample-postgres: runs once, when its volume is first initialised.
-- A small shop with enough rows for paging, EXPLAIN and slow-query history to mean something.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL,
    country char(2) NOT NULL,
    created_at timestamptz NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    notes text
);

CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price >= 0),
    attributes jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    product_id bigint NOT NULL REFERENCES products (id),
    status text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    ordered_at timestamptz NOT NULL
);
-- orders.product_id is left unindexed on purpose: something for the index advice to find.
CREATE INDEX orders_customer_id ON orders (customer_id);

-- No primary key: rows are addressed by ctid.
CREATE TABLE event_log (
    occurred_at timestamptz NOT NULL,
    level text NOT NULL,
    message text NOT NULL
);

INSERT INTO customers (email, full_name, country, created_at, is_active, notes)
SELECT 'customer' || g || '@example.com',
       (ARRAY['Zoë', 'José', 'Søren', 'O''Brien', '山田', 'Анна', 'Ada'])[1 + g % 7] || ' ' || g,
       (ARRAY['US', 'DE', 'FR', 'JP', 'BR', 'PL'])[1 + g % 6],
       timestamptz '2020-01-01' + g * interval '2 hours',
       g % 13 <> 0,
       CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN '' ELSE 'note <b>' || g || '</b>' END
FROM generate_series(1, 20000) AS g;

INSERT INTO products (sku, name, price, attributes)
SELECT 'SKU-' || lpad(g::text, 5, '0'),
       'Product ' || g,
       round((random() * 200)::numeric, 2),
       jsonb_build_object('color', (ARRAY['red', 'black', 'sage'])[1 + g % 3], 'weight_g', g % 900)
FROM generate_series(1, 2000) AS g;

INSERT INTO orders (customer_id, product_id, status, quantity, ordered_at)
SELECT 1 + (g * 7919) % 20000,
       1 + (g * 104729) % 2000,
       (ARRAY['paid', 'shipped', 'delivered', 'delivered', 'cancelled'])[1 + g % 5],
       1 + g % 4,
       timestamptz '2021-01-01' + g * interval '3 minutes'
FROM generate_series(1::bigint, 250000) AS g;

INSERT INTO event_log (occurred_at, level, message)
SELECT now() - g * interval '1 minute', (ARRAY['INFO', 'WARNING', 'ERROR'])[1 + g % 3], 'event ' || g
FROM generate_series(1, 5000) AS g;

ANALYZE;
