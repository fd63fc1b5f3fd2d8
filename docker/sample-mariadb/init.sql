-- sample-mariadb: runs once, when its volume is first initialised, in the `shop` database.
-- Rows come from MariaDB's built-in sequence tables (seq_1_to_N).
CREATE TABLE customers (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(255) NOT NULL UNIQUE,
    full_name VARCHAR(200) NOT NULL,
    country CHAR(2) NOT NULL,
    created_at DATETIME NOT NULL,
    is_active TINYINT(1) NOT NULL DEFAULT 1,
    notes TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    status ENUM('paid', 'shipped', 'delivered', 'cancelled') NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    ordered_at DATETIME NOT NULL,
    payload JSON NULL,
    CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- No primary key (InnoDB keys it internally; the explorer has no key to page by).
CREATE TABLE event_log (
    occurred_at DATETIME(3) NOT NULL,
    level VARCHAR(10) NOT NULL,
    message TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO customers (email, full_name, country, created_at, is_active, notes)
SELECT CONCAT('customer', seq, '@example.com'),
       CONCAT(ELT(1 + seq % 7, 'Zoë', 'José', 'Søren', 'O''Brien', '山田', 'Анна', 'Ada'), ' ', seq),
       ELT(1 + seq % 6, 'US', 'DE', 'FR', 'JP', 'BR', 'PL'),
       '2020-01-01' + INTERVAL (seq * 2) HOUR,
       seq % 13 <> 0,
       CASE seq % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE CONCAT('note `', seq, '`') END
FROM seq_1_to_20000;

INSERT INTO orders (customer_id, status, total, ordered_at, payload)
SELECT 1 + (seq * 7919) % 20000,
       ELT(1 + seq % 4, 'paid', 'shipped', 'delivered', 'cancelled'),
       ROUND(RAND(seq) * 300, 2),
       '2021-01-01' + INTERVAL (seq * 3) MINUTE,
       IF(seq % 4 = 0, NULL, JSON_OBJECT('channel', ELT(1 + seq % 3, 'web', 'app', 'phone'), 'items', 1 + seq % 5))
FROM seq_1_to_100000;

INSERT INTO event_log (occurred_at, level, message)
SELECT NOW(3) - INTERVAL seq MINUTE, ELT(1 + seq % 3, 'INFO', 'WARNING', 'ERROR'), CONCAT('event ', seq)
FROM seq_1_to_5000;

ANALYZE TABLE customers, orders, event_log;
