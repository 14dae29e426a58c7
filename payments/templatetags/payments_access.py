"""``{% load payments_access %}`` then ``{% if request|has_feature:"ebooks" %}``."""

from django import template

from payments import access

register = template.Library()


@register.filter
def has_feature(request, feature: str) -> bool:
    """False for a template without ``request`` in its context, never an error page."""
    if request is None or not hasattr(request, "GET"):
        return False
    return access.has_feature(request, feature)
