"""Customers and subscriptions: searchable by email and every Stripe ID.

State fields mirror Stripe and are overwritten by the next webhook, so they are
shown read-only: a change belongs in Stripe (or ``manage-tier/``), not here.
"""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from payments.admin.permissions import CHANGE_MODEL, ActionPermissionMixin
from payments.models import Customer, GuestSubscription, Subscription
from payments.services.access_links import resend_access_link
from payments.services.account_links import backfill_user_links
from payments.services.recorded_steps import Outcome

STRIPE_STATE_FIELDS = [
    "stripe_subscription_id",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "livemode",
    "stripe_state_at",
    "created_at",
    "updated_at",
]

ACCESS_LINK_FIELDS = ["access_link_sent_at", "access_link_attempts", "access_link_error"]


@admin.register(Customer)
class CustomerAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = ["stripe_customer_id", "user", "livemode", "created_at"]
    list_filter = ["livemode"]
    list_select_related = ["user"]
    search_fields = ["stripe_customer_id", "user__email", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(Subscription)
class SubscriptionAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = [
        "stripe_subscription_id",
        "user",
        "tier",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "livemode",
    ]
    list_filter = ["status", "tier", "livemode", "cancel_at_period_end"]
    list_select_related = ["user", "tier"]
    search_fields = [
        "stripe_subscription_id",
        "customer__stripe_customer_id",
        "user__email",
        "user__username",
    ]
    raw_id_fields = ["user", "customer"]
    readonly_fields = STRIPE_STATE_FIELDS
    date_hierarchy = "created_at"


@admin.register(GuestSubscription)
class GuestSubscriptionAdmin(ActionPermissionMixin, admin.ModelAdmin):
    """Fieldsets leave out the access token's hash: staff never see or edit it.

    Staff can send a guest a new link (a lost email, a leaked link); the old one
    stops working. The buyer's email and the linked user are not editable: a link
    to an account goes through ``backfill_user_links``' service (verified emails
    only, one ``account_link`` identity event per user), like the command.
    """

    list_display = [
        "email",
        "tier",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "user",
        "created_at",
    ]
    list_filter = ["status", "tier", "livemode", ("user", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "tier"]
    search_fields = [
        "email",
        "stripe_customer_id",
        "stripe_subscription_id",
        "user__email",
    ]
    readonly_fields = [
        "email",
        "user",
        "stripe_customer_id",
        *STRIPE_STATE_FIELDS,
        *ACCESS_LINK_FIELDS,
    ]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["email", "tier", "user"]}),
        (_("Access link"), {"fields": ACCESS_LINK_FIELDS}),
        (_("Stripe"), {"fields": ["stripe_customer_id", *STRIPE_STATE_FIELDS]}),
    ]
    actions = ["send_new_access_link", "link_to_account"]

    @admin.action(description=_("Send a new access link"), permissions=[CHANGE_MODEL])
    def send_new_access_link(self, request: HttpRequest, queryset) -> None:
        outcomes = [resend_access_link(guest, request) for guest in queryset]
        sent = outcomes.count(Outcome.DONE)
        failed = len(outcomes) - sent
        if sent:
            message = ngettext(
                "Sent a new access link to %d guest; the old link no longer works.",
                "Sent new access links to %d guests; their old links no longer work.",
                sent,
            )
            self.message_user(request, message % sent, messages.SUCCESS)
        if failed:
            message = ngettext(
                "%d access link could not be sent; see its last error.",
                "%d access links could not be sent; see their last errors.",
                failed,
            )
            self.message_user(request, message % failed, messages.WARNING)

    @admin.action(
        description=_("Link to the account with the same verified email"),
        permissions=[CHANGE_MODEL],
    )
    def link_to_account(self, request: HttpRequest, queryset) -> None:
        emails = queryset.filter(user__isnull=True).values_list("email", flat=True)
        result = backfill_user_links(
            emails=list(emails), source="admin", staff_user_id=str(request.user.pk)
        )
        message = ngettext(
            "Linked %(subscriptions)d guest subscription(s) and %(invoices)d invoice(s) "
            "to %(users)d account.",
            "Linked %(subscriptions)d guest subscription(s) and %(invoices)d invoice(s) "
            "to %(users)d accounts.",
            result.users,
        ) % {
            "subscriptions": result.guest_subscriptions,
            "invoices": result.invoices,
            "users": result.users,
        }
        self.message_user(request, message, messages.SUCCESS if result.users else messages.INFO)
        if result.unverified or result.ambiguous:
            skipped = _(
                "Skipped: %(unverified)d account(s) whose email is not verified, "
                "%(ambiguous)d email(s) shared by several accounts."
            ) % {"unverified": result.unverified, "ambiguous": len(result.ambiguous)}
            self.message_user(request, skipped, messages.WARNING)
