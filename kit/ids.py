"""Every callback id, action id and shortcut id the app uses, defined once.

``manifest.yml`` and the listeners both refer to these names; a test checks they match.
"""

from __future__ import annotations

# slash commands
CMD_LEAD = "/lead"
CMD_PAYMENT = "/payment"
CMD_TIMELINE = "/timeline"
CMD_PIPELINE = "/pipeline"

# modals (view callback ids)
VIEW_LEAD_CREATE = "lead_create"
VIEW_LEAD_EDIT = "lead_edit"
VIEW_LEAD_MORE_FIELDS = "lead_more_fields"
VIEW_PAYMENT = "payment_record"
VIEW_ACTIVITY = "activity_log"
VIEW_TIMELINE = "timeline_query"
VIEW_LEAD_IMPORT = "lead_import"  # /lead import: the file to import
VIEW_IMPORT_MAPPING = "lead_import_mapping"  # *Change mapping* on an import preview

# buttons on the lead card (value: the lead id)
ACT_FORM_RETRY = "form_try_again"  # on a form that could not load: load it again
ACT_CARD_PAYMENT = "lead_card_payment"
ACT_CARD_ACTIVITY = "lead_card_activity"
ACT_CARD_TIMELINE = "lead_card_timeline"
ACT_CARD_EDIT = "lead_card_edit"

# other buttons and menus
ACT_UPDATE_EXISTING = "lead_update_existing"  # on a duplicate-lead reply
ACT_FIND_MORE = "lead_find_more"  # paging of /lead find
ACT_OPEN_MORE_FIELDS = "lead_more_fields"  # New lead modal: reach fields beyond Slack's block limit
ACT_PAYMENT_STATUS = "payment_status"  # value: JSON {"action_id", "status"}
# (one button per next status; Slack wants action ids unique in a block, so each is "payment_status:<STATUS>")
ACT_PAYMENT_AMOUNT_HELP = "payment_amount_help"  # "Amount wrong?" on a payment message
ACT_TIMELINE_OLDER = "timeline_older"
ACT_TIMELINE_NEWER = "timeline_newer"
ACT_TIMELINE_TYPE = "timeline_type"  # type select of the /timeline modal (type-ahead when > 100 types)
ACT_ACTIVITY_PICK = "activity_pick"  # choosing a custom action in a form
ACT_LEAD_ACTIVITY_PICK = "lead_activity_pick"  # New lead modal: choosing the activity to log with it
ACT_ACTIVITY_FIELD = "activity_field_value"  # inputs of a custom action's fields (own type-ahead)
ACT_HOME_REFRESH = "home_refresh_schema"
# buttons of a follow-up reminder (value: JSON {"l": lead id, "v": reminder version}); its
# *Log activity* button is the card's ACT_CARD_ACTIVITY
ACT_FOLLOW_UP_DONE = "follow_up_done"
ACT_FOLLOW_UP_SNOOZE = "follow_up_snooze"  # 1 hour
ACT_FOLLOW_UP_TOMORROW = "follow_up_tomorrow"  # 10:00 tomorrow in the person's zone
ACT_PIPELINE_SHARE = "pipeline_share"  # on a /pipeline report only its asker sees: post it for everyone
ACT_FIELD_VALUE = "value"  # the action id of every schema-built input element
# bulk import (value: the import id). import_confirm is the sending engine's (commands/lead_import)
ACT_IMPORT_CONFIRM = "import_confirm"  # *Import N valid rows* on a preview
ACT_IMPORT_CHANGE_MAPPING = "import_change_mapping"
ACT_IMPORT_PREVIEW_CANCEL = "import_preview_cancel"  # *Cancel* while the import is still a preview
ACT_IMPORT_AGAIN = "import_again"  # "This file was already imported … Import it again?" — yes
BLOCK_IMPORT_FILE = "import_file"  # the file_input block of the Import leads modal

# shortcuts
SHORTCUT_LEAD_FROM_MESSAGE = "create_lead_from_message"
SHORTCUT_PAYMENT_ON_CARD = "record_payment_on_card"
SHORTCUT_IMPORT_FROM_FILE = "import_leads_from_file"
