from __future__ import annotations

from typing import Any

from django import forms

from accounts.access import teams_for
from accounts.models import Role
from api.tokens import EXPIRY_CHOICES


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “nightly export in CI”.")
    ceiling = forms.ChoiceField(
        label="Role ceiling",
        choices=Role.choices,
        initial=Role.VIEWER,
        help_text="The token never has more than this, nor more than your own role at the time of each call.",
    )
    team = forms.ModelChoiceField(
        label="Team", queryset=None, required=False, empty_label="All my teams", help_text="Limit it to one team."
    )
    days = forms.TypedChoiceField(label="Expires in", choices=EXPIRY_CHOICES, coerce=int, initial=90)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_for(user)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError("The name may not contain a NUL byte.")
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
