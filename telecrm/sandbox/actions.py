"""Actions on a lead's timeline: checking custom and PAYMENT actions, storing them, and the Sync API's
action endpoints (create, get, update, search), plus built-in activity added by the sandbox's owner.

An action of a batch that does not check out is ignored with remarks (errors.ActionRejected), never
failing the batch: TeleCRM answers that way (telecrm/sandbox/__init__.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from .core import StateBase
from .errors import (
    NOT_RETRIEVABLE,
    NOT_UPDATABLE,
    NOT_WRITABLE,
    PAYMENT_LOCKED,
    ActionRejected,
    bad_request,
    invalid_filter,
    remark,
)
from .values import DroppedValue, InvalidValue, is_int, parse_decimal, parse_unix_or_date

PAYMENT_STATUSES: tuple[str, ...] = ("PENDING", "COMPLETED", "FAILED", "REFUNDED", "CANCELLED", "PROCESSING")
CURRENCIES: tuple[str, ...] = ("INR", "USD", "PKR", "AED", "QAR", "SAR", "MYR", "AUD", "CAD", "SGD", "XOF")


class ActionOps(StateBase):
    """The action operations (see telecrm/sandbox/core.py for the layers)."""

    def _screen_sync_actions(self, raw_actions: list[Any]) -> None:
        """`POST /lead/{id}/action` only: the refusals its pitfalls document for the whole request (a
        built-in type; an `ACTION_` code, "400 or silently dropped"), before anything is written.

        `POST /lead` has none: its page says fields *and actions* that fail validation are reported
        in `remarks` while the lead is still created, so there they are `IGNORED` (`_check_action`).
        """
        for i, raw in enumerate(raw_actions):
            action_type = raw.get("type") if isinstance(raw, dict) else None
            if not isinstance(action_type, str) or action_type == "PAYMENT" or action_type.isdigit():
                continue
            if re.fullmatch(r"ACTION_\d+", action_type):
                raise bad_request(
                    f"actions[{i}].type: the Sync API takes the bare numeric custom action code, e.g. "
                    f'"{action_type[7:]}" (not "{action_type}")'
                )
            raise bad_request(NOT_WRITABLE)

    def _store_actions(
        self, lead: dict[str, Any], raw_actions: list[Any], remarks: list[dict[str, str]], *, mode: str
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for i, raw in enumerate(raw_actions):
            try:
                action_type, payload, created_on = self._check_action(i, raw, mode=mode)
            except ActionRejected as rejected:
                remarks.extend(rejected.remarks)
                results.append({"action_id": None, "status": "IGNORED"})
                continue
            action = self._add_action(
                lead, action_type, payload, created_on=created_on, performed_by=self.ws.api_actor
            )
            results.append({"action_id": action["action_id"], "status": "CREATED"})
        if any(r["status"] == "CREATED" for r in results):
            lead["modified_on"] = max(self.clock(), lead["modified_on"])
        return results

    def _check_action(self, i: int, raw: Any, *, mode: str) -> tuple[str, dict[str, Any], int | None]:
        """Validate one action of a batch; `mode` is "sync" (bare codes), "async" (ACTION_ codes) or "seed"."""
        base = f"actions[{i}]"
        if not isinstance(raw, dict):
            raise ActionRejected([remark(base, "Action must be an object")])
        action_type = raw.get("type")
        if not isinstance(action_type, str):
            raise ActionRejected(
                [
                    remark(
                        f"{base}.type",
                        'Action type is required as a string: a custom action code such as "1001", or "PAYMENT"',
                    )
                ]
            )
        if action_type == "PAYMENT":
            return "PAYMENT", self._check_payment(base, raw), None
        if mode == "async":
            match = re.fullmatch(r"ACTION_(\d+)", action_type)
            if not match or match.group(1) not in self.actions_def:
                raise ActionRejected(
                    [remark(f"{base}.type", "Not an ACTION_-prefixed custom action of this workspace")]
                )
            number = match.group(1)
        else:
            number = action_type
            if number not in self.actions_def:
                raise ActionRejected([remark(f"{base}.type", self._unknown_sync_type(action_type))])
        definition = self.actions_def[number]
        remarks: list[dict[str, str]] = []
        for key in raw:
            if key not in ("type", "fields", "created_on"):
                remarks.append(remark(f"{base}.{key}", f"Unknown property '{key}' for a custom action"))
        fields = raw.get("fields", {})
        clean: dict[str, Any] = {}
        if not isinstance(fields, dict):
            remarks.append(remark(f"{base}.fields", "fields must be an object"))
            fields = {}
        for key, value in fields.items():
            spec = definition.field_schema.get(key)
            if spec is None:
                remarks.append(
                    remark(
                        f"{base}.fields.{key}",
                        f"Field '{key}' is not defined for custom action {number} ({definition.raw['displayName']})",
                    )
                )
                continue
            try:
                clean[key] = self._check_action_field(spec, value)
            except (InvalidValue, DroppedValue) as exc:
                text = exc.remark if isinstance(exc, InvalidValue) else "Value not accepted"
                remarks.append(remark(f"{base}.fields.{key}", text))
        created_on: int | None = None
        if "created_on" in raw and (definition.allows_predating or mode == "seed"):
            try:
                created_on = parse_unix_or_date(raw["created_on"])
            except InvalidValue as exc:
                remarks.append(remark(f"{base}.created_on", exc.remark))
        if remarks:
            raise ActionRejected(remarks)
        return number, {"fields": clean}, created_on

    @staticmethod
    def _unknown_sync_type(action_type: str) -> str:
        """Why a Sync action's type is not one TeleCRM writes: an `ACTION_` code, a built-in type, or
        a custom action code the workspace does not define."""
        if re.fullmatch(r"ACTION_\d+", action_type):
            return (
                f'The Sync API takes the bare numeric custom action code, e.g. "{action_type[7:]}" '
                f'(not "{action_type}")'
            )
        if not action_type.isdigit():
            return NOT_WRITABLE
        return f"Custom action {action_type} is not defined in this workspace"

    def _check_payment(self, base: str, raw: dict[str, Any]) -> dict[str, Any]:
        remarks: list[dict[str, str]] = []
        for key in raw:
            if key not in ("type", "status", "currency", "amount", "paymentid", "created_on"):
                remarks.append(remark(f"{base}.{key}", f"Unknown property '{key}' for a PAYMENT action"))
        status, currency, amount = raw.get("status"), raw.get("currency"), raw.get("amount")
        if status not in PAYMENT_STATUSES:
            remarks.append(
                remark(f"{base}.fields.status", f"status is required, one of {', '.join(PAYMENT_STATUSES)}")
            )
        if currency not in CURRENCIES:
            remarks.append(
                remark(f"{base}.fields.currency", f"currency is required, one of {', '.join(CURRENCIES)}")
            )
        if "amount" not in raw:
            remarks.append(
                remark(f"{base}.fields.amount", 'amount is required as a numeric string, e.g. "5000"')
            )
        elif not isinstance(amount, str) or (number := parse_decimal(amount)) is None:
            remarks.append(remark(f"{base}.fields.amount", 'Amount must be a numeric string, e.g. "5000"'))
        elif number <= 0:
            remarks.append(remark(f"{base}.fields.amount", "Amount must be greater than 0"))
        paymentid = raw.get("paymentid")
        if paymentid is not None and not (isinstance(paymentid, str) and paymentid.strip()):
            remarks.append(remark(f"{base}.fields.paymentid", "paymentid must be a non-empty string"))
        if remarks:
            raise ActionRejected(remarks)
        payload = {"status": status, "currency": currency, "amount": str(amount).strip()}
        if paymentid is not None:
            payload["paymentid"] = paymentid
        return payload

    def create_actions(self, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        raw_actions = body.get("actions")
        if not isinstance(raw_actions, list) or not raw_actions:
            raise bad_request("Request body must contain a non-empty 'actions' array.")
        self._screen_sync_actions(raw_actions)
        remarks: list[dict[str, str]] = []
        results = self._store_actions(lead, raw_actions, remarks, mode="sync")
        if any(r["status"] == "CREATED" for r in results):
            self.write_count += 1
        return {"lead_id": lead_id, "actions": results, "remarks": remarks}

    def get_action(self, lead_id: str, action_id: str) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        action = self._action_or_404(lead, action_id)
        if action["type"] != "PAYMENT" and not self._is_custom(action["type"]):
            raise bad_request(NOT_RETRIEVABLE)
        return self.render_writable_action(action)

    def update_action(self, lead_id: str, action_id: str, body: dict[str, Any]) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, f"Lead with ID {lead_id} was not found.")
        action = self._action_or_404(lead, action_id)
        if action["type"] != "PAYMENT" and not self._is_custom(action["type"]):
            raise bad_request(NOT_UPDATABLE)
        sent_type = body.get("type")
        if sent_type != action["type"]:
            raise bad_request(f"'type' must equal the action's type \"{action['type']}\" (got {sent_type!r})")
        if action["type"] == "PAYMENT":
            if any(k in body for k in ("amount", "currency", "paymentid")):
                raise bad_request(PAYMENT_LOCKED)
            for key in body:
                if key not in ("type", "status"):
                    raise bad_request(f"Unknown property '{key}' for a PAYMENT action")
            if "status" in body:
                if body["status"] not in PAYMENT_STATUSES:
                    raise bad_request(f"status must be one of {', '.join(PAYMENT_STATUSES)}")
                action["payload"]["status"] = body["status"]
        else:
            for key in body:
                if key not in ("type", "fields"):
                    raise bad_request(f"Unknown property '{key}' for a custom action")
            fields = body.get("fields", {})
            if not isinstance(fields, dict):
                raise bad_request("'fields' must be an object.")
            schema = self.actions_def[action["type"]].field_schema
            changes: dict[str, Any] = {}
            for key, value in fields.items():
                spec = schema.get(key)
                if spec is None:
                    raise bad_request(f"Field '{key}' is not defined for custom action {action['type']}")
                try:
                    changes[key] = self._check_action_field(spec, value)
                except (InvalidValue, DroppedValue) as exc:
                    reason = exc.remark if isinstance(exc, InvalidValue) else "value not accepted"
                    raise bad_request(f"Invalid value for field '{key}': {reason}") from exc
            action["payload"]["fields"].update(changes)
        lead["modified_on"] = max(self.clock(), lead["modified_on"])
        self.write_count += 1
        return self.render_writable_action(action)

    def search_actions(self, lead_id: str, body: dict[str, Any], *, skip: int, limit: int) -> dict[str, Any]:
        lead = self._lead_or_404(lead_id, "Lead with given ID was not found.")
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for key, value in body.items():
            if key == "type":
                if not isinstance(value, str) or not value:
                    raise invalid_filter(
                        "type", 'expected one action type string, e.g. "1001" or "OUTGOING_CALL"'
                    )
                wanted_type = value.casefold()
                checks.append(lambda a, t=wanted_type: a["type"].casefold() == t)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            elif key == "created_on":
                lo, hi = self._range(value, "created_on")
                checks.append(lambda a, lo=lo, hi=hi: lo <= a["created_on"] <= hi)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            elif key == "performed_by":
                wanted = {v.strip().casefold() for v in self._str_list(value, "performed_by")}
                ids = {m["email"].casefold() for m in self.members.values() if m["id"] in wanted}
                wanted |= ids
                checks.append(lambda a, w=wanted: (a["performed_by"] or "").casefold() in w)  # type: ignore[misc]  # mypy cannot infer lambdas that bind a default argument
            else:
                raise invalid_filter(key, "unknown filter key; use type, created_on, performed_by")
        rows = [a for a in self._sorted_actions(lead) if all(c(a) for c in checks)]
        return {
            "data": [self.render_action(a) for a in rows[skip : skip + limit]],
            "total_count": len(rows),
            "skip": skip,
            "limit": limit,
        }

    def add_builtin_action(
        self,
        lead_id: str,
        action_type: str,
        *,
        created_on_ms: int | None,
        performed_by: str | None,
        extra: dict[str, Any],
    ) -> str:
        lead = self.leads.get(lead_id)
        if lead is None:
            raise KeyError(f"no lead with id {lead_id}")
        if not isinstance(action_type, str) or not action_type:
            raise ValueError("action type must be a non-empty string")
        if created_on_ms is not None and not is_int(created_on_ms):
            raise ValueError("created_on_ms must be an integer (epoch milliseconds)")
        member = self.members.get((performed_by or "").lower())
        action = self._add_action(
            lead,
            action_type,
            copy.deepcopy(extra),
            created_on=created_on_ms,
            performed_by=member["email"] if member else performed_by,
        )
        return action["action_id"]
