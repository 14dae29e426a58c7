"""Create the three tiers with their feature flags; prices and price IDs come later."""

from django.db import migrations

DEFAULT_TIERS = [
    {
        "slug": "data",
        "name": "Data",
        "description": "Data products.",
        "includes_data": True,
        "position": 10,
    },
    {
        "slug": "reader",
        "name": "Reader",
        "description": "Reading and data products.",
        "includes_data": True,
        "includes_reading": True,
        "position": 20,
    },
    {
        "slug": "premium",
        "name": "Premium",
        "description": "Reading, data products and ebook downloads.",
        "includes_data": True,
        "includes_reading": True,
        "includes_ebooks": True,
        "position": 30,
    },
]


def create_default_tiers(apps, schema_editor):
    SubscriptionTier = apps.get_model("payments", "SubscriptionTier")
    for tier in DEFAULT_TIERS:
        fields = dict(tier)
        SubscriptionTier.objects.get_or_create(slug=fields.pop("slug"), defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(create_default_tiers, migrations.RunPython.noop)]
