"""Team members: list, get, create (within the licence's seats) and availability changes."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from .core import StateBase
from .errors import ApiError, bad_request
from .values import is_valid_email
from .workspace import stable_id

AVAILABILITY_STATES: tuple[str, ...] = ("Active", "Inactive", "On Leave", "Working")
ROLE_TEMPLATES: dict[str, str] = {
    "ADMIN": "Admin",
    "MANAGER": "Manager",
    "CALLER": "Sales Agent",
    "MARKETING_USER": "Marketing",
}


class MemberOps(StateBase):
    """The team member operations (see telecrm/sandbox/core.py for the layers)."""

    def render_member(self, member: dict[str, Any]) -> dict[str, Any]:
        manager = self.members.get(str(member.get("manager_email") or "").lower())
        return {
            "name": member["name"],
            "email": member["email"],
            "status": member["status"],
            "phone_number": member["phone_number"],
            "manager_name": manager["name"] if manager else None,
            "manager_email": manager["email"] if manager else None,
            "permission_template_name": member.get("permission_template_name")
            or ROLE_TEMPLATES.get(member["role"], member["role"]),
            "license": copy.deepcopy(member.get("license")),
        }

    # -- team members ---------------------------------------------------------------------------

    def list_members(self, *, skip: int, limit: int, include_deleted: bool) -> dict[str, Any]:
        members = [m for m in self.members.values() if include_deleted or m["status"] != "Deleted"]
        members.sort(key=lambda m: (m["name"].casefold(), m["email"].casefold()))
        return {
            "data": [self.render_member(m) for m in members[skip : skip + limit]],
            "total_count": len(members),
            "skip": skip,
            "limit": limit,
        }

    def _find_member(self, email: Any, *, include_deleted: bool) -> dict[str, Any]:
        if not isinstance(email, str) or not is_valid_email(email.strip()):
            raise bad_request("Invalid email format")
        member = self.members.get(email.lower())  # whitespace is not trimmed, as in TeleCRM
        if member is None or (member["status"] == "Deleted" and not include_deleted):
            raise ApiError(404, "TEAM_MEMBER_NOT_FOUND", "Team member not found")
        return member

    def get_member(self, email: str, *, include_deleted: bool) -> dict[str, Any]:
        return self.render_member(self._find_member(email, include_deleted=include_deleted))

    def create_member(self, body: dict[str, Any]) -> dict[str, Any]:
        details: list[dict[str, str]] = []
        allowed = ("name", "email", "phone_number", "role", "password")
        for key in body:
            if key not in allowed:
                details.append(
                    {"field": key, "message": f"Unknown field. Allowed fields: {', '.join(allowed)}"}
                )
        name, email, phone, role = (body.get(k) for k in ("name", "email", "phone_number", "role"))
        if not isinstance(name, str) or not name.strip():
            details.append({"field": "name", "message": "name is required"})
        if not isinstance(email, str) or not email:
            details.append({"field": "email", "message": "email is required"})
        elif not is_valid_email(email):
            details.append({"field": "email", "message": "Invalid email format"})
        if not isinstance(phone, str) or not phone:
            details.append({"field": "phone_number", "message": "phone_number is required"})
        elif not phone.isdigit() or not self._valid_member_phone(phone):
            details.append({"field": "phone_number", "message": "Invalid phone_number format"})
        if role not in ROLE_TEMPLATES:
            details.append(
                {
                    "field": "role",
                    "message": "Invalid role. Allowed roles: ADMIN, MANAGER, CALLER, MARKETING_USER",
                }
            )
        password = body.get("password")
        if password is not None and (not isinstance(password, str) or len(password) < 8):
            details.append(
                {"field": "password", "message": "password must be a string of at least 8 characters"}
            )
        if details:
            raise bad_request("Validation failed", details)
        assert (
            isinstance(email, str)
            and isinstance(name, str)
            and isinstance(phone, str)
            and isinstance(role, str)
        )
        if email.lower() in self.members:
            raise ApiError(
                409, "TEAM_MEMBER_ALREADY_EXISTS", f"Team member with email {email} already exists."
            )
        seats = self.ws.seats
        if seats is not None and sum(m["status"] != "Deleted" for m in self.members.values()) >= seats:
            raise ApiError(
                402,
                "BUY_LICENSE",
                f"No free licence seat (all {seats} seats are taken; inactive and invited members hold seats too). "
                "Buy a licence to add team members.",
            )
        today = date.fromtimestamp(self.clock() / 1000)
        member = {
            "id": stable_id("member", email.lower()),
            "name": name.strip(),
            "email": email,
            "phone_number": phone,
            "role": role,
            "status": "Active" if password else "Invited",
            "manager_email": None,
            "permission_template_name": ROLE_TEMPLATES[role],
            "license": {
                "status": "ACTIVE",
                "type": self.ws.license_type,
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=365)).isoformat(),
            },
        }
        self.members[email.lower()] = member
        return {
            "name": member["name"],
            "email": email,
            "phone_number": phone,
            "role": role,
            "status": "Active" if password else "INVITED",
        }

    @staticmethod
    def _valid_member_phone(digits: str) -> bool:
        import phonenumbers

        try:
            return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            return False

    def change_state(self, body: dict[str, Any]) -> dict[str, Any]:
        state, email = body.get("state"), body.get("email")
        if state not in AVAILABILITY_STATES:
            raise bad_request(f"Invalid state. Allowed states: {', '.join(AVAILABILITY_STATES)}")
        if email is None:
            raise bad_request("email is required")
        member = self._find_member(email, include_deleted=False)
        if member["status"] == "Invited":
            raise bad_request("Team member has not accepted the invitation yet")
        member["status"] = state
        return {"email": member["email"], "status": state}
