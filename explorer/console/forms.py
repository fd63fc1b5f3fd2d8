"""The console's forms: a run (text, page size, confirmations), a transaction button, a saved query."""

from __future__ import annotations

from django import forms

PAGE_SIZES = ((100, "100"), (500, "500"), (1000, "1,000"))
MAX_TEXT = 1_000_000


class RunForm(forms.Form):
    text = forms.CharField(max_length=MAX_TEXT, strip=False, widget=forms.Textarea(attrs={"rows": 10}))
    batch = forms.TypedChoiceField(choices=PAGE_SIZES, coerce=int, initial=100, required=False)
    confirm_name = forms.CharField(max_length=200, required=False, label="Confirm production")
    confirm_dangerous = forms.BooleanField(required=False, label="I confirm administrative commands (admins only)")

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Type a statement first.")
        return text

    def clean_batch(self) -> int:
        return int(self.cleaned_data.get("batch") or 100)


class TransactionForm(forms.Form):
    action = forms.ChoiceField(choices=(("begin", "BEGIN"), ("commit", "COMMIT"), ("rollback", "ROLLBACK")))
    isolation = forms.CharField(max_length=32, required=False)


class SavedQueryForm(forms.Form):
    name = forms.CharField(max_length=200)
    text = forms.CharField(max_length=MAX_TEXT, strip=False)
