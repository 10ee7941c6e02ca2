"""Catalog forms: the learning library's filter (a GET form: it changes nothing, so no CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from engine.catalog.specs import AssetKind

KIND_TITLES = {"microlearning": "Microlearning", "video": "Video", "reading": "Reading",
               "role_play": "Role play", "exercise": "Exercise"}


class LibraryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    skill = SelectField("Root cause", choices=[], default="", validate_choice=True)
    kind = SelectField("Kind", default="", choices=[SelectChoice("", "Any kind")] + [
        SelectChoice(k.value, KIND_TITLES.get(k.value, k.value)) for k in AssetKind])
    role = SelectField("For", choices=[], default="", validate_choice=True)
    minutes = IntegerField("Max. minutes", validators=[Optional(), NumberRange(min=1, max=120)])

    def __init__(self, formdata, skills, roles, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.skill.choices = [SelectChoice("", "Every root cause")] + [SelectChoice(sid, s.title)
                                                                       for sid, s in skills.items()]
        self.role.choices = [SelectChoice("", "Every role")] + [SelectChoice(r.id, f"{r.title}s") for r in roles]

    def keeps(self, asset) -> bool:
        """Whether the filter keeps this asset."""
        return ((not self.skill.data or self.skill.data in asset.addresses)
                and (not self.kind.data or asset.kind.value == self.kind.data)
                and (not self.role.data or not asset.roles or self.role.data in asset.roles)
                and (not self.minutes.data or asset.minutes <= self.minutes.data))
