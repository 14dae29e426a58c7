"""The one decision: which VAT treatment a sale gets, from facts, never from "tax is zero"."""

import pytest

from payments.invoicing.tax import TreatmentUndecided, decide_treatment, missing_address

SELLER = {"name": "Beispiel Verlag GmbH", "country": "DE", "vat_id": "DE123456789"}
SMALL = {**SELLER, "small_business": True}


def buyer(country: str, *tax_ids: tuple[str, str]) -> dict:
    return {"country": country, "tax_ids": [{"type": t, "value": v} for t, v in tax_ids]}


@pytest.mark.parametrize(
    ("tax", "reasons", "who", "seller", "treatment"),
    [
        (190, ["standard_rated"], buyer("DE"), SELLER, "domestic"),
        (190, ["standard_rated"], buyer("DE", ("eu_vat", "DE987654321")), SELLER, "domestic"),
        (200, ["standard_rated"], buyer("AT"), SELLER, "eu_consumer"),
        (0, ["reverse_charge"], buyer("AT", ("eu_vat", "ATU12345678")), SELLER, "reverse_charge"),
        (0, [], buyer("AT", ("eu_vat", "ATU12345678")), SELLER, "reverse_charge"),  # tax rates
        (0, [], buyer("GR", ("eu_vat", "EL123456789")), SELLER, "reverse_charge"),  # EL, not GR
        (200, ["standard_rated"], buyer("FR"), SELLER, "eu_consumer"),
        (
            0,
            ["not_collecting"],
            buyer("CH", ("ch_vat", "CHE-123.456.789 MWST")),
            SELLER,
            "outside_eu",
        ),
        (0, ["not_collecting"], buyer("US"), SELLER, "outside_eu"),
        (0, [], buyer("DE"), SMALL, "small_business"),
        (0, [], buyer(""), SMALL, "small_business"),
    ],
)
def test_each_treatment_needs_its_own_evidence(tax, reasons, who, seller, treatment):
    assert decide_treatment(tax, reasons, who, seller) == treatment


@pytest.mark.parametrize(("country", "treatment"), [("DE", "domestic"), ("AT", "eu_consumer")])
def test_a_free_trials_zero_invoice_is_taxed_by_its_taxability_reason(country, treatment):
    assert decide_treatment(0, ["standard_rated"], buyer(country), SELLER, total=0) == treatment
    # Something charged without tax is not a taxed sale, whatever the reason says.
    with pytest.raises(TreatmentUndecided):
        decide_treatment(0, ["standard_rated"], buyer(country), SELLER, total=1000)


@pytest.mark.parametrize(
    ("tax", "reasons", "who", "seller", "why"),
    [
        (0, [], buyer("DE"), SELLER, "No VAT was charged to a buyer in DE"),
        (0, [], buyer("DE", ("eu_vat", "DE987654321")), SELLER, "No VAT was charged"),
        # A VAT ID of another country does not make an Austrian buyer reverse charged.
        (0, [], buyer("AT", ("eu_vat", "DE987654321")), SELLER, "without a VAT ID of AT"),
        (0, [], buyer("FR"), SELLER, "neither a consumer"),
        (190, [], buyer("US"), SELLER, "outside the EU"),
        (0, ["reverse_charge"], buyer("CH"), SELLER, "outside the EU"),
        (190, [], buyer("DE"), SMALL, "§ 19 UStG"),
        (190, [], buyer(""), SELLER, "billing country is unknown"),
    ],
)
def test_a_combination_that_fits_none_says_why(tax, reasons, who, seller, why):
    with pytest.raises(TreatmentUndecided, match=why.replace("(", r"\(")):
        decide_treatment(tax, reasons, who, seller)


def test_deciding_asks_the_database_nothing(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        decide_treatment(190, ["standard_rated"], buyer("DE"), SELLER)


FULL = {"line1": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "AT"}


@pytest.mark.parametrize(
    ("address", "name", "total", "treatment", "missing"),
    [
        ({"country": "DE"}, "", 25000, "domestic", ""),  # up to 250 €: simplified invoice
        ({"country": "DE"}, "Erika", 25001, "domestic", "line1, postal_code, city"),
        (FULL, "Erika", 25001, "domestic", ""),
        ({"country": "AT"}, "Huber GmbH", 1190, "reverse_charge", "line1"),
        (FULL, "", 1190, "reverse_charge", "name"),
        (FULL, "Huber GmbH", 1190, "reverse_charge", ""),
    ],
)
def test_section_33_ustdv_wants_the_full_address_over_250_eur_and_for_reverse_charge(
    address, name, total, treatment, missing
):
    problem = missing_address(address, name, total, treatment)
    if missing:
        assert missing in problem and "§ 33 UStDV" in problem
    else:
        assert problem == ""
