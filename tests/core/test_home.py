"""App Home: recent leads, cache status, pending writes; only admins get (and may use) Refresh."""

from __future__ import annotations

from kit import ids
from kit.cards import post_lead_card
from tests.conftest import ADMIN, CHANNEL, USER


def _home_text(view: dict) -> str:
    parts = []
    for block in view["blocks"]:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for el in block.get("elements", []):
            if isinstance(el, dict) and isinstance(el.get("text"), (str, dict)):
                parts.append(el["text"] if isinstance(el["text"], str) else el["text"].get("text", ""))
    return "\n".join(parts)


def test_home_shows_recent_leads_and_status(bot):
    lead = bot.services.telecrm.create_lead({"name": "Asha Rao", "phone": "919812345678"})
    post_lead_card(
        bot.services,
        channel=CHANNEL,
        lead_id=lead.lead_id,
        fields={"name": "Asha Rao", "phone": "919812345678"},
        created_by=USER,
    )
    bot.emulator.app_home_opened(USER)
    view = bot.wait(lambda emu: emu.home_view(USER))
    text = _home_text(view)
    assert "Asha Rao" in text and "919812345678" in text
    assert "fields" in text and "Writes waiting for TeleCRM:* 0" in text
    assert ids.ACT_HOME_REFRESH not in str(view)  # a rep is not an admin


def test_admin_can_refresh_schema_from_home(bot):
    bot.emulator.app_home_opened(ADMIN)
    view = bot.wait(lambda emu: emu.home_view(ADMIN))
    assert ids.ACT_HOME_REFRESH in str(view)
    before = sum(1 for r in bot.sandbox.request_log if "custom-fields" in r[1])
    bot.emulator.click_button(user=ADMIN, action_id=ids.ACT_HOME_REFRESH, view_id=view["id"])
    refreshed = bot.wait(
        lambda emu: (
            "Schema refreshed" in _home_text(emu.home_view(ADMIN) or {"blocks": []}) and emu.home_view(ADMIN)
        )
    )
    assert "Schema refreshed" in _home_text(refreshed)
    assert sum(1 for r in bot.sandbox.request_log if "custom-fields" in r[1]) == before + 1


def test_slack_user_is_linked_to_their_team_member_and_remembered(bot):
    member = bot.services.schema().active_members[0]
    bot.emulator.ws.users[USER]["profile"]["email"] = member.email.upper()
    found, email = bot.services.member_for(USER)
    assert found == member and email == member.email.upper()
    link = bot.services.user_links.get(USER)
    assert link.member_email == member.email
