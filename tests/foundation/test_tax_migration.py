"""Invoices issued before ``tax_treatment`` keep the note their PDF printed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("payments", "0004_pdf_storage")]
AFTER = [("payments", "0005_tax")]


def test_existing_invoices_get_the_treatment_their_pdf_showed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("payments", "Invoice")
    rows = {
        "domestic": ({"country": "DE"}, {}, 190),
        "small_business": ({"country": "DE"}, {"small_business": True}, 0),
        "reverse_charge": ({"country": "AT", "vat_ids": ["ATU12345678"]}, {}, 0),
        "outside_eu": ({"country": "US"}, {}, 0),
        "eu_consumer": ({"country": "FR"}, {}, 200),
    }
    for number, (expected, (buyer, seller, tax)) in enumerate(rows.items(), start=1):
        old.objects.create(
            number=f"RE-{number}",
            sequence=number,
            stripe_invoice_id=f"in_{expected}",
            email="a@example.com",
            currency="eur",
            net_amount=1000,
            tax_amount=tax,
            total_amount=1000 + tax,
            issued_at="2026-01-01T00:00:00Z",
            buyer=buyer,
            seller=seller,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("payments", "Invoice")

    found = dict(new.objects.values_list("stripe_invoice_id", "tax_treatment"))
    assert found == {f"in_{treatment}": treatment for treatment in rows}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
