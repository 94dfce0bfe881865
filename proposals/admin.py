"""Django admin views of the audit trail: read-only. Nothing here can add, change or delete a decision."""

from __future__ import annotations

from django.contrib import admin

from proposals.models import Appeal, ModerationAction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "reason", "moderator", "target_user"]
    list_filter = ["kind", "reason"]
    date_hierarchy = "created_at"


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "status", "appellant", "reviewed_by"]
    list_filter = ["status"]
