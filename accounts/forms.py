from __future__ import annotations

from django import forms

from accounts.models import Role, Team


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError("The name may not contain a NUL byte.")
        return name


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class CodeForm(forms.Form):
    """A six-digit authenticator code or a recovery code; spaces people copy along are ignored."""

    token = forms.CharField(label="Code", max_length=32, strip=True)

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split()).lower()
