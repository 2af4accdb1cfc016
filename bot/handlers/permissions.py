"""Who may connect or disconnect Logfire: everyone, or with LOGFIRE_ADMIN_ONLY=true only workspace admins and
owners (and members of LOGFIRE_ADMIN_USERGROUP, a user group id such as S0123)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings


async def may_manage_connection(client: AsyncWebClient, settings: Settings, user_id: str) -> bool:
    if not settings.logfire_admin_only:
        return True
    user = (await client.users_info(user=user_id))["user"]
    if user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"):
        return True
    if settings.logfire_admin_usergroup:
        members = await client.usergroups_users_list(usergroup=settings.logfire_admin_usergroup)
        return user_id in members.get("users", [])
    return False
