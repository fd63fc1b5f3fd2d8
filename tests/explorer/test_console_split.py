"""Statements split by each dialect's rules, with the character position each starts at."""

from __future__ import annotations

from connections.engines.sqlconsole import MYSQL, POSTGRESQL, SQLITE, split


def texts_and_starts(text: str, rules: object) -> list[tuple[int, str]]:
    return [(s.start, s.text) for s in split(text, rules)]  # type: ignore[arg-type]


def test_semicolons_inside_strings_identifiers_comments_and_dollar_bodies_do_not_split_postgresql() -> None:
    text = (
        "SELECT 'a;b', \"x;y\" FROM t; -- not; here\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
        "/* outer /* nested; */ still; */ SELECT E'it\\'s;' ; SELECT $$;$$"
    )
    found = texts_and_starts(text, POSTGRESQL)
    assert [t for _, t in found] == [
        "SELECT 'a;b', \"x;y\" FROM t",
        "-- not; here\nCREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
        "/* outer /* nested; */ still; */ SELECT E'it\\'s;'",
        "SELECT $$;$$",
    ]
    assert all(text[start : start + len(t)] == t for start, t in found)


def test_mysql_backslashes_backticks_and_hash_comments() -> None:
    text = "SELECT 'it\\'s; fine', `a;b` FROM t # c;\n; SELECT 1 --x;\n; SELECT \"q\\\";\""
    assert [t for _, t in texts_and_starts(text, MYSQL)] == [
        "SELECT 'it\\'s; fine', `a;b` FROM t # c;",
        "SELECT 1 --x",
        'SELECT "q\\";"',
    ]


def test_sqlite_brackets_and_empty_statements_dropped() -> None:
    text = ";;  SELECT [a;b] FROM t;  -- only a comment;\n ; SELECT 2"
    assert texts_and_starts(text, SQLITE) == [(4, "SELECT [a;b] FROM t"), (text.index("SELECT 2"), "SELECT 2")]


def test_an_unterminated_string_runs_to_the_end_as_one_statement() -> None:
    assert [t for _, t in texts_and_starts("SELECT 'open; SELECT 2", POSTGRESQL)] == ["SELECT 'open; SELECT 2"]


def test_unicode_and_nul_keep_their_character_positions() -> None:
    text = "SELECT '名前 🚀';\x00SELECT 2"
    found = texts_and_starts(text, POSTGRESQL)
    assert found[1] == (text.index("\x00"), "\x00SELECT 2")
