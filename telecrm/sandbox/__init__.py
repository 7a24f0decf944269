"""A strict loopback stand-in for TeleCRM: the 18 Sync routes and the Async route on one WSGI app.

It serves `telecrm-bot sandbox`, the embedded fallback of `telecrm-bot run` and every end-to-end
test. It follows TeleCRM's API documentation and, where the docs are silent, this project's
conventions, always picking the *strict* reading so that the client is tested against the hard
case. Routes:

* Sync, under `/autoupdate/v2/enterprise/{id}/…` (Sync token): `lead`, `lead/search`,
  `lead/{leadId}` (GET/POST), `lead/{leadId}/action`, `…/action/search`, `…/action/{actionId}`
  (GET/POST), `team-members` (GET/POST), `team-members/{email}`, `teammember/state_change`,
  `metadata`, `custom-fields[/{apiName}]`, `custom-actions[/{code}]`, `lead-stage-pipeline`.
* Async: `POST /enterprise/{id}/autoupdatelead` (Async token).
* Admin (no token, not logged, no faults): `/_sandbox/` — `GET state`, `GET leads[/{id}[/actions]]`
  (HTML for browsers, JSON otherwise), `POST leads/{id}/builtin-actions`, `POST leads/{id}/change`
  and `DELETE leads/{id}` (a change or a deletion made in the TeleCRM web app, not through the API:
  `modified_on` moves, a new assignee gets a `LEAD_ASSIGNMENT` action by `by`), `GET|DELETE requests`,
  `GET|POST|DELETE faults`, `POST drain-async`, `POST reset`.

Choices where the docs are silent or contradict each other
-----------------------------------------------------------
Auth and routing
  * Missing/invalid/wrong-type token → 401 `{"error": {"code": "NOT_AUTHORIZED", "message":
    "Invalid or missing access token."}}`. The token is checked before the enterprise id.
  * Valid token, unknown enterprise id → 404 `ENTERPRISE_NOT_FOUND` "The enterprise with ID … was
    not found." on *every* Sync route (the metadata pages document it; one answer for all routes);
    on the Async route → 401 `NOT_AUTHORIZED` "Access token is not valid for enterprise with id …"
    (the Async docs list only 200/401/429).
  * Unknown routes and wrong methods (incl. `GET /lead/search`, `/team-members/state_change`) →
    404 `NOT_FOUND` "Cannot GET /path" in the envelope; paths outside `/autoupdate/v2` and
    `/enterprise/` get an HTML 404 (as the live API does for a base URL without `/autoupdate/v2`).
  * Request bodies must be `Content-Type: application/json` and a JSON object, else 400
    `BAD_REQUEST`; search routes accept an empty body (= no filter).
  * Query flags (`includeActions`, `includeDeleted`, `detail`) accept only `true`/`false`;
    `skip` must be a non-negative integer ("Skip should be a non-negative integer").

Leads
  * Missing identifier on create → 400 `INVALID_LEAD` "Lead identifier field 'phone' not found in
    request body." (the create page's own example); an invalid identifier value → 400 `INVALID_LEAD`
    naming the reason. Duplicate → 409 `LEAD_ALREADY_EXISTS` "Lead with phone 919999999999 already
    exists." Identifier matching (phone: as stored, country code + number, see PHONE below;
    email: trimmed, case-insensitive; text: case-insensitive).
  * Create: unknown API names, read-only system fields and invalid values → `IGNORED` remarks at
    `fields.<api>`; the rest is stored. New leads without a status get the first active OPEN status
    ("Fresh").
  * Update: only supplied fields change; identifier present → 403 `INVALID_LEAD` "Cannot modify
    lead identifier field"; unknown field or invalid value → 400 `BAD_REQUEST` "Invalid value for
    field 'rating': Rating must be between 1 and 5"; an unknown *status* label is dropped silently;
    a `lockAfterCreate` field that already has a value → 400. `null` is never a valid
    value (fields cannot be cleared through the API).
  * Archived statuses and archived lost reasons are accepted and not stored, without a remark.
  * Stored values are normalised: phones as digits with country code and no `+`, dates as epoch ms,
    emails trimmed, the assignee as the member's stored email.
  * Every lead's `fields` also carry read-only `created_on`, `modified_on` (epoch ms) and, once the
    lead has actions, `last_activity_type` / `last_activity_on`.
  * Search: case-insensitive exact match except `status`, which is case-sensitive;
    phones are normalised before matching; a tags filter matches any tag; a date filter given as a
    day matches the whole day; a `to` bound without a time is the end of that day. Unknown filter
    keys or fields, bad ranges or non-scalar values → 400 "Invalid filter" with `details`. Rows are
    `{"id", "fields"}` newest first, plus `total_count`, `skip`, `limit`.

Field types (remark texts name the expected form)
  TEXT string (optional `maxLength`); NUMBER JSON number (numeric strings refused); EMAIL syntax
  ("Email is invalid"); PHONE `+` optional, digits only, validated with libphonenumber: without a
  `+`, a number valid for the workspace's default country (whatever its length: 8 digits in
  Singapore, 10 in India) gets the default country code ("If country code is not specified,
  enterprise's default country code will be used"), otherwise the digits must be a valid country
  code + number as written (`91 98…`); DATE epoch
  ms (≥ 10^11, so epoch seconds are refused), an all-digit string of ms, or `DD/MM/YYYY` with
  optional ` HH:mm:ss`, read as IST (ISO-8601 refused); DROPDOWN non-empty label, unknown labels
  auto-create an option (exact, case-sensitive label match); TAGS array of strings, unknown tags
  auto-create options; MONEY numeric *string*; WEBSITE/MEDIALINK http(s) URL with a host;
  ACTIVE_USERS email of a non-deleted team member (invited members count); RATING integer 1–5
  ("Rating must be between 1 and 5"); STATUS / LOST_REASON active labels. A custom action's fields
  have exactly the documented types TEXT, DATE, DROPDOWN, NUMBER, ACTIVE_USERS, MEDIALINK (the
  Async page's custom action schema; a workspace file with any other is refused), and a DROPDOWN
  value must be among its `fieldSchema` options (no auto-create).

Actions
  * An action is stored whole or not at all: one that fails validation → `{"action_id": null,
    "status": "IGNORED"}` with remarks at `actions[i].fields.<key>` (payment properties use the same
    path, as the docs' example `actions[1].fields.amount` "Amount must be greater than 0" does),
    `actions[i].type` or `actions[i].created_on`; the others of the batch are stored.
  * Lead create (`POST /lead`): every action problem is such an IGNORED entry — an `ACTION_1001`
    type, a built-in type, an unknown code, bad payment fields — and the lead is still created (the
    page: "fields and actions that fail validation are reported in a remarks array while the lead
    itself is still created"). Action create (`POST /lead/{id}/action`): its pitfalls' refusals of
    the whole request stay — a built-in type → 400 "Only custom actions and payment actions can be
    created", `ACTION_1001` → 400 naming the bare code ("400 or silently dropped").
  * PAYMENT: `status` and `currency` from TeleCRM's enums (telecrm/sandbox/actions.py), `amount` a numeric string > 0, optional
    `paymentid`. Update: only `status`; `amount`/`currency`/`paymentid` → 400 "Cannot update amount,
    currency, or paymentid fields for existing payment action."; `type` must equal the stored type.
  * `created_on` on a custom action is honoured only when its definition has
    `allowPredatedActivity.enabled` (else ignored, whatever it holds): a Unix timestamp in seconds
    or milliseconds (below 10^11 is seconds; a number or an all-digit string) or `DD/MM/YYYY` with
    optional ` HH:mm:ss` (IST). Only a value in none of these forms drops the action, with a remark
    at `actions[i].created_on`; a time in the future is taken as given.
  * Actions written through the API have `performed_by` = the workspace's `api_actor` (null by
    default). Get/update action return exactly the documented keys; timeline rows (action search,
    `includeActions`) add `action_id`, `created_on` (epoch ms) and `performed_by`, newest first.
  * Action search body: `type` (one string), `created_on` range, `performed_by` (email(s) or a
    member's internal id); anything else → 400 "Invalid filter"; unknown lead → 404 "Lead with given
    ID was not found."; `limit` 1–100.

Team members
  * Create validates everything at once → 400 "Validation failed" with `details[]` (phone digits
    only and valid with its country code, else "Invalid phone_number format"; role; password ≥ 8
    characters; unknown keys). Duplicate email → 409 `TEAM_MEMBER_ALREADY_EXISTS`. Seats: every
    non-deleted member (invited and inactive too) holds one; none free → 402 `BUY_LICENSE`.
    Answer `status` is "INVITED" without a password, else "Active" (listed as "Invited"/"Active").
  * Email lookups are case-insensitive but not trimmed (whitespace → 404); a
    malformed email → 400 "Invalid email format". State change of an invited member → 400.

Metadata
  * `leadIdentifierFieldId` is the identifier field's `id`, so the documented discovery flow
    (match `customFields[].id` in detail mode) works. Detail-mode fields add an optional human
    `name` (and `dateFormat` for dates, `maxLength` where set); summary mode is exactly the
    documented keys. Field-schema entries of custom actions may carry a `label`.

Async
  * 200 `{"status": "QUEUED"}` for any valid JSON body; applied by a background worker
    (`Sandbox.drain_async()` waits for it). Upsert on the identifier; missing/invalid identifier →
    dropped; invalid or unknown fields dropped; only `ACTION_<code>` custom actions and PAYMENT are
    kept. 18,000 requests per hour per token (sliding window), then a bare 429
    `TOO_MANY_REQUESTS` — no `Retry-After`: TeleCRM documents none for the Async limit and the
    client is to stay under it (docs API.md §11). The limit is requests per window:
    `Sandbox(async_rate_limit=600, async_rate_window_seconds=60)`, else the environment
    (`SANDBOX_ASYNC_LIMIT`, `SANDBOX_ASYNC_WINDOW_SECONDS`, read by `telecrm-bot sandbox` too),
    else 18,000 per 3600 s; `faults.async_rate_limit` / `faults.async_rate_window_seconds` (or
    `POST /_sandbox/faults`) change it live and `reset()` goes back to the configured one.
    `Sandbox.async_counts()` (and `async` in `GET /_sandbox/state`) counts `accepted`,
    `rate_limited` (by the limiter; injected faults are not counted), `applied`, `created`,
    `updated`, `dropped` and `pending`. Sync requests are unlimited unless
    `faults.rate_limit_per_hour` is set (then 429 with `Retry-After`).

Strict docs (`Sandbox(strict_docs=True)`, or `SANDBOX_STRICT_DOCS=1` in the environment when the
flag is not given): every 2xx answer keeps only the keys the documented examples show
(telecrm/sandbox/documented.py) — no `action_id`/`created_on`/`performed_by` on timeline rows, no
read-only system fields on leads, no display `name`/`dateFormat`/`maxLength`/`label` in the schema —
so tests prove the bot is correct without them.

Inspection: `write_count()` counts successful writes — a lead create (with its actions), a lead
update, an action batch with at least one created action, an action update, an applied Async
request (team-member writes are not counted). `request_log` holds `(method, path, status)` for
every API request (status 0 when the connection was reset); admin calls are not logged.

Workspace JSON format (`--workspace FILE`, `load_workspace`, `Sandbox(workspace=…)`)
-------------------------------------------------------------------------------
::

    {
      "enterprise": {"name", "creationTimeStamp", "teamSize", "industry", "website", "integrations": []},
      "lead_identifier": "phone",           # apiName of a PHONE, EMAIL or TEXT field
      "seats": 15,                          # licence seats, null = unlimited
      "license_type": "GROWTH",             # licence type given to new team members
      "api_actor": null,                    # team-member email recorded as performed_by of API writes
      "fields": [{"apiName", "type", "name", "description", "lockAfterCreate"?, "maxLength"?,
                  "options"?: ["Label", …] or [{"id", "label"}], "id"?}],
      "custom_actions": [{"code": "ACTION_1001", "displayName", "description", "icon", "score",
                          "fieldSchema": {"note": {"type": "TEXT", "label"?}, "outcome": {"type":
                          "DROPDOWN", "options": [...]}}, "allowPredatedActivity": {"enabled": true},
                          "source": "USER", …other documented keys optional}],
      "pipeline": {"leadStages": [{"stageid", "stageType": "OPEN|WON|LOST", "visibility",
                   "activeStatuses": [{"statusid", "label", "color"}], "archivedStatuses": […]}],
                   "activeLeadLostReasons": [{"reasonid", "reasonLabel", "isDefault"}],
                   "archivedLeadLostReasons": […], "creationTimestamp"?, "version"?},
      "team_members": [{"name", "email", "phone_number", "role", "status", "manager_email"?,
                        "permission_template_name"?, "license"?: {…} | null}],
      "leads": [{"id"?, "created_on"?, "modified_on"?, "fields": {…},
                 "actions"?: [{"type": "1001" | "PAYMENT" | "OUTGOING_CALL" | …, "created_on"?,
                               "performed_by"?, "action_id"?, "fields"? / payment keys / any
                               extra keys of a built-in action (duration, feedback, message…)}]}]
    }

Seed timestamps and seeded DATE values may be epoch ms, `DD/MM/YYYY[ HH:mm:ss]` or relative to
start-up (`-3d`, `-2h30m`, `+2d`). Seeded ids default to stable hashes, so they survive restarts;
seeded leads may carry archived statuses (historical leads). Everything is validated on load and a
`WorkspaceError` names the bad entry.
"""

from .app import Sandbox
from .base import LoggedRequest
from .documented import strict_docs_from_env
from .fault_injection import apply_fault_settings
from .faults import Faults
from .server import RunningServer, serve_forever, serve_in_thread
from .state import CURRENCIES, PAYMENT_STATUSES, ApiError, load_workspace
from .workspace import (
    DEMO_ASYNC_TOKEN,
    DEMO_ENTERPRISE_ID,
    DEMO_SYNC_TOKEN,
    WorkspaceError,
    demo_workspace,
    email_identifier_workspace,
)

__all__ = [
    "CURRENCIES",
    "DEMO_ASYNC_TOKEN",
    "DEMO_ENTERPRISE_ID",
    "DEMO_SYNC_TOKEN",
    "PAYMENT_STATUSES",
    "ApiError",
    "Faults",
    "LoggedRequest",
    "RunningServer",
    "Sandbox",
    "WorkspaceError",
    "apply_fault_settings",
    "demo_workspace",
    "email_identifier_workspace",
    "load_workspace",
    "serve_forever",
    "serve_in_thread",
    "strict_docs_from_env",
]
