"""The parameters of the EXPLAIN, plan-compare and index pages, validated like every explorer form."""

from __future__ import annotations

from django import forms

from explorer.forms import ConfirmedForm, ExplorerForm, Text, TextList, choice

MAX_STATEMENT_CHARS = 1_000_000


class ExplainForm(ExplorerForm):
    statement = Text("statement", max_length=MAX_STATEMENT_CHARS)
    analyze = choice("analyze", ["", "1", "on"], "analyze is 1 or nothing.")
    plan = forms.UUIDField(required=False, error_messages={"invalid": "That is not a saved plan's address."})
    confirm = Text("confirmation", max_length=1000)


class CompareForm(ExplorerForm):
    a = forms.UUIDField(required=True, error_messages={"invalid": "Choose two saved plans to compare."})
    b = forms.UUIDField(required=True, error_messages={"invalid": "Choose two saved plans to compare."})


class TableForm(ExplorerForm):
    ns = Text("schema or database")
    obj = Text("table or collection")


class AdviceForm(ExplorerForm):
    statement = Text("statement", max_length=MAX_STATEMENT_CHARS)
    plan = forms.UUIDField(required=False, error_messages={"invalid": "That is not a saved plan's address."})


class CreateIndexForm(ConfirmedForm):
    ns = Text("schema or database")
    obj = Text("table or collection", required=True)
    col = TextList("column", max_items=32)
    unique = choice("unique", ["", "1", "on"], "unique is 1 or nothing.")

    def clean_col(self) -> list[str]:
        cols = [c for c in self.cleaned_data["col"] if c != ""]
        if not cols:
            raise forms.ValidationError("Choose at least one column for the index.")
        return cols


class DropIndexForm(ConfirmedForm):
    ns = Text("schema or database")
    obj = Text("table or collection", required=True)
    name = Text("index name", required=True)
