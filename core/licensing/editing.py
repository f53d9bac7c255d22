"""Who may edit other people's time (issue #17; 7pace's "Editing time" rule), a tenant setting.

- ``administrators`` (the default, and the behaviour before the setting existed): only
  Administrators edit or delete other users' worklogs;
- ``approval_managers``: Administrators, and approval managers for the people they approve;
- ``product``: the above, and the Product role.

Anyone may edit their own worklogs, and a worklog someone added for another user stays
editable by them until its owner edits it (``core.tracking.may_edit``); this rule is the
"may edit others" half of that decision, asked in one place (``core.services.access``).
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import ValidationFailed
from core.licensing.roles import Role

__all__ = ["EditingRule", "may_edit_others", "parse_editing_rule"]


class EditingRule(StrEnum):
    ADMINISTRATORS = "administrators"
    APPROVAL_MANAGERS = "approval_managers"
    PRODUCT = "product"


def parse_editing_rule(value: str | None) -> EditingRule:
    """A stored or sent value; None (never set) is the default."""
    if value is None:
        return EditingRule.ADMINISTRATORS
    try:
        return EditingRule(value)
    except ValueError:
        allowed = ", ".join(rule.value for rule in EditingRule)
        raise ValidationFailed(f"unknown editing rule {value!r}; one of: {allowed}", field="who") from None


def may_edit_others(rule: EditingRule, *, role: str, approves_owner: bool) -> bool:
    """Whether a user of ``role`` may edit another user's worklogs under ``rule``;
    ``approves_owner``: the user is an approval manager of that worklog's owner."""
    if role == Role.ADMINISTRATOR.value:
        return True
    if rule is EditingRule.ADMINISTRATORS:
        return False
    if approves_owner:
        return True
    return rule is EditingRule.PRODUCT and role == Role.PRODUCT.value
