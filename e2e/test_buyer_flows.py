"""What a buyer does in the example shop, in headless Chromium, in German and English.

Each step asserts what the page shows (in the page's language, from the catalogue)
and saves a screenshot. The fake Stripe's hosted pages stand in for Stripe's.
"""

import time

import pytest
from django.core import mail
from django.utils import translation

from e2e.conftest import last_link
from payments.models import GuestSubscription, Invoice, SubscriptionTier

LANGUAGES = ["de", "en"]


def t(language: str, message: str, **params) -> str:
    with translation.override(language):
        text = translation.gettext(message)
    return text % params if params else text


def tier_name(language: str, slug: str) -> str:
    with translation.override(language):
        return SubscriptionTier.objects.get(slug=slug).localized_name


def wait_for_mail(count: int) -> None:
    """The site sends after its transaction commits, in the server's thread."""
    for _ in range(100):
        if len(mail.outbox) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"expected {count} emails, got {[m.subject for m in mail.outbox]}")


def buy_at_the_fake(page, fake_stripe, language: str, name: str = "Ada Lovelace") -> None:
    page.wait_for_url(f"{fake_stripe.url}/checkout/cs_test_*")
    assert page.locator("h1").inner_text() == ("Abonnieren" if language == "de" else "Subscribe")
    page.fill("input[name=name]", name)
    # The checkout collects the billing address the invoice must show (§ 14 UStG).
    for field, value in (("line1", "Hauptstr. 1"), ("postal_code", "10115"), ("city", "Berlin")):
        page.fill(f"input[name={field}]", value)
    page.steps.shot("fake-stripe-checkout")
    page.click("button[type=submit]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_guest_buys_reads_upgrades_downloads_cancels_and_resumes(
    page, live_server, fake_stripe, shop, language
):
    base = f"{live_server.url}/{language}"
    reader, premium = tier_name(language, "reader"), tier_name(language, "premium")

    page.goto(f"{base}/pricing/")
    assert page.locator("li[data-tier=reader] h2").inner_text() == reader
    assert page.locator("li[data-tier=data] .payments-trial").inner_text() == (
        "14 Tage kostenlos testen" if language == "de" else "Try 14 days free"
    )
    page.steps.shot("pricing")
    page.fill("#payments-email", "ada@example.com")
    page.dblclick("button[value=reader]")  # a double-click starts one checkout, not two
    buy_at_the_fake(page, fake_stripe, language)
    assert len(fake_stripe.state.all("checkout.session")) == 1

    page.wait_for_url(f"{base}/payments/checkout/success/*")
    assert t(language, "You subscribed to %(name)s.", name=reader) in page.content()
    assert "ada@example.com" in page.content()
    assert page.locator(".payments-onward a").count() == 2  # on to the content, to manage-tier
    page.steps.shot("success")
    (session,) = fake_stripe.state.all("checkout.session")
    assert session["metadata"]["language"] == language
    assert session["locale"] == language

    wait_for_mail(2)  # the access link and the invoice
    link = last_link(r"http://\S+manage-tier/\?token=\S+")
    token = link.split("token=")[1]
    page.goto(link)
    page.wait_for_url(f"{base}/payments/manage-tier/")
    assert token not in page.url and token not in page.content()
    assert page.locator(".payments-tier-name").inner_text() == reader
    page.steps.shot("manage-from-email-link")

    page.goto(f"{base}/blog/first-post/")
    assert page.locator("h1").inner_text() == t(language, "A post for readers")
    page.steps.shot("blog-post")
    page.goto(f"{base}/ebooks/demo.txt")
    assert page.url == f"{base}/pricing/"  # refused: Reader has no ebooks
    page.steps.shot("ebook-refused")

    page.goto(f"{base}/payments/manage-tier/")
    page.select_option("#payments-new-tier", "premium")
    page.click(".payments-change button")
    page.wait_for_url(f"{base}/payments/manage-tier/preview/?tier=premium")
    assert premium in page.locator(".payments-preview").inner_text()
    assert "€" in page.locator(".payments-preview-amount").inner_text()
    page.steps.shot("preview-premium")
    page.click(".payments-confirm button")
    page.wait_for_url(f"{base}/payments/manage-tier/")
    assert page.locator("[role=status]").inner_text() == t(
        language, "Your subscription now is %(tier)s.", tier=premium
    )
    assert page.locator(".payments-tier-name").inner_text() == premium
    page.steps.shot("switched-to-premium")

    with page.expect_download() as download:
        page.evaluate("url => { window.location.href = url; }", f"{base}/ebooks/demo.txt")
    assert download.value.suggested_filename == "demo-ebook.txt"

    page.click("button[value=cancel]")
    page.wait_for_url(f"{base}/payments/manage-tier/")
    ends = t(language, "Your subscription is canceled: it ends on %(date)s.").split("%")[0]
    assert page.locator("[role=status]").inner_text().startswith(ends)
    page.steps.shot("canceled")
    page.click("button[value=resume]")
    renews = t(language, "Your subscription continues: it renews on %(date)s.").split("%")[0]
    assert page.locator("[role=status]").inner_text().startswith(renews)
    page.steps.shot("resumed")
    at_stripe = fake_stripe.state.all("subscription")[0]
    assert at_stripe["cancel_at_period_end"] is False
    assert at_stripe["items"]["data"][0]["price"]["id"] == shop["premium"].stripe_price_id_test


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_second_purchase_with_the_same_email_gets_the_link_instead(
    page, live_server, fake_stripe, shop, language
):
    session = fake_stripe.create_checkout_session(
        shop["reader"].stripe_price_id_test, customer_email="ada@example.com"
    )
    fake_stripe.complete_checkout(session["id"])
    wait_for_mail(2)  # the access link and the invoice
    assert GuestSubscription.objects.get().grants_access
    base = f"{live_server.url}/{language}"

    page.goto(f"{base}/pricing/")
    page.fill("#payments-email", "ada@example.com")
    page.click("button[value=premium]")

    error = page.locator("li[data-tier=premium] .payments-tier-error")
    error.wait_for(state="visible")
    assert "ada@example.com" in error.inner_text()
    assert page.locator("li[data-tier=reader] .payments-tier-error").is_hidden()
    assert page.url == f"{base}/pricing/"
    assert page.locator("button[value=premium]").is_enabled()  # free to try again
    page.steps.shot("already-subscribed")
    wait_for_mail(3)  # the first link, the invoice, the new link
    link = last_link(r"http://\S+manage-tier/\?token=\S+")
    page.goto(link)
    link_language = link.split(live_server.url)[1].split("/")[1]  # the buyer's, not ours
    assert page.locator(".payments-tier-name").inner_text() == tier_name(link_language, "reader")
    page.steps.shot("link-from-the-409-email")

    # A price Stripe does not know: the provider's refusal is shown at that tier.
    SubscriptionTier.objects.filter(slug="data").update(stripe_price_id_test="price_gone")
    page.goto(f"{base}/pricing/")
    page.fill("#payments-email", "new@example.com")
    page.click("button[value=data]")
    error = page.locator("li[data-tier=data] .payments-tier-error")
    error.wait_for(state="visible")
    assert error.inner_text() == t(
        language, "The payment provider could not complete the request. Please try again."
    )
    page.steps.shot("provider-error")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_new_user_signs_up_and_buys_data_with_a_trial(
    page, live_server, fake_stripe, shop, language
):
    base = f"{live_server.url}/{language}"
    page.goto(f"{base}/")
    page.steps.shot("home")
    page.click(f"header a[href='/{language}/accounts/signup/']")
    page.fill("input[name=username]", f"grace-{language}")
    page.fill("input[name=email]", f"grace-{language}@example.com")
    page.fill("input[name=password1]", "a-long-passphrase-42")
    page.fill("input[name=password2]", "a-long-passphrase-42")
    page.steps.shot("sign-up")
    page.click("form.signup button")

    page.wait_for_url(f"{base}/pricing/")
    assert page.locator(".site-user").inner_text() == f"grace-{language}"
    trial = page.locator("li[data-tier=data] .payments-trial").inner_text()
    assert trial == ("14 Tage kostenlos testen" if language == "de" else "Try 14 days free")
    page.steps.shot("pricing-signed-in")
    page.click("button[value=data]")
    buy_at_the_fake(page, fake_stripe, language, name="Grace Hopper")

    page.wait_for_url(f"{base}/payments/checkout/success/*")
    assert t(language, "You subscribed to %(name)s.", name=tier_name(language, "data")) in (
        page.content()
    )
    page.steps.shot("success")
    wait_for_mail(1)
    (invoice,) = Invoice.objects.all()
    (message,) = mail.outbox
    assert message.to == [f"grace-{language}@example.com"]
    assert invoice.number in message.subject
    assert any(name.endswith(".pdf") for name, *_ in message.attachments)

    page.click(".payments-onward a[href$='/payments/manage-tier/']")
    assert page.locator(".payments-status").inner_text() == t(language, "in trial")
    page.steps.shot("manage-in-trial")
    page.click(f"a[href='/{language}/payments/stripe_customer_portal/']")
    page.wait_for_url(f"{fake_stripe.url}/billing_portal/*")
    assert "trialing" in page.content()
    page.steps.shot("billing-portal")
