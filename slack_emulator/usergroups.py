"""``usergroups.list`` and ``usergroups.users.list`` of the Web API (a mixin of
:class:`~slack_emulator.webapi.WebApi`)."""

from __future__ import annotations

from typing import Any

from . import directory
from .api_error import ApiError
from .paging import _bool
from .state import Workspace


class UsergroupMethods:
    """The workspace's user groups, as ``PAYMENT_ALLOWED_USERS`` may name them (``@handle``)."""

    ws: Workspace

    def _usergroup_json(self, group: dict[str, Any], include_users: bool) -> dict[str, Any]:
        data = {
            "id": group["id"],
            "team_id": self.ws.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": group["name"],
            "description": group.get("description", ""),
            "handle": group["handle"],
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 0,
            "auto_type": None,
            "created_by": directory.DEFAULT_USERS[0]["id"],
            "updated_by": directory.DEFAULT_USERS[0]["id"],
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(group["users"]),
        }
        if include_users:
            data["users"] = list(group["users"])
        return data

    def usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        include = _bool(args.get("include_users"))
        return {"usergroups": [self._usergroup_json(g, include) for g in self.ws.usergroups.values()]}

    def usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.ws.usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            raise ApiError("no_such_subteam")
        return {"users": list(group["users"])}
