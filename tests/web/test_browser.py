"""The officer's flow in a real browser: Debian's Chromium driven by Playwright, against the
live server. Screenshots of the main pages go to test-artifacts/screenshots/."""

import io
import os
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, one at a time.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def shoot(page, name):
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_officer_signs_in_answers_questions_and_ticks_an_item_off(live_server, browser, django_user_model, settings):
    from obligations import services
    from obligations.models import ChecklistItem

    settings.DEBUG = True  # the live server serves static files from the apps
    user = django_user_model.objects.create_user("olivia", "olivia@example.com", "pw-olivia-123")
    organization = services.organization_create(user=user, name="Acme", slug="acme", timezone_name="Asia/Shanghai")
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})

    # Sign in.
    page.goto(f"{live_server.url}/accounts/login/")
    shoot(page, "sign-in")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("pw-olivia-123")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/organizations/{organization.pk}/")
    assert "No checklist items yet" in page.content()

    # Answer the questionnaire: a Lingang company running a face-swap app.
    page.get_by_role("link", name="Questionnaire", exact=True).click()
    roles = page.locator("#fact-roles")
    roles.get_by_label("Not answered (unknown)").uncheck()
    roles.get_by_label("App operator").check()
    roles.get_by_label("Deep synthesis service provider").check()
    registered = page.locator("#fact-registered_in")
    registered.get_by_label("Not answered (unknown)").uncheck()
    registered.locator("select").select_option("CN-SH-LG")
    for fact, places in (("operates_in", ["CN-SH"]), ("data_sourced_in", [])):  # chosen from a list
        block = page.locator(f"#fact-{fact}")
        block.get_by_label("Not answered (unknown)").uncheck()
        block.locator("select").select_option(places)
    features = page.locator("#fact-features")
    features.get_by_label("Not answered (unknown)").uncheck()
    for value in ("biometric_editing", "public_opinion_attributes"):
        features.locator(f"input[value='{value}']").check()
    shoot(page, "questionnaire")
    page.get_by_role("button", name="Save answers").click()
    assert "Profile saved" in page.content()

    # The checklist has appeared.
    page.get_by_role("link", name="Checklist", exact=True).click()
    rows = page.locator("#checklist tbody tr")
    assert rows.count() > 10
    total = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True).duties().count()
    assert f"{total} items" in page.content()
    shoot(page, "checklist")

    # Tick the first item off from the keyboard; htmx swaps the row in place.
    first = rows.filter(has=page.get_by_role("button", name="Done")).first  # prohibitions say "Confirm"
    item_id = first.get_attribute("id")
    button = first.get_by_role("button", name="Done")
    button.focus()
    page.keyboard.press("Enter")
    page.locator(f"#{item_id} [data-status='done']").wait_for()
    assert ChecklistItem.objects.filter(organization=organization, status="done").count() == 1

    # Search, select two of the items found and put them in progress at once.
    page.get_by_label("Search").fill("filing")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/checklist/?q=filing*")
    found = page.locator("#checklist tbody tr")
    assert 2 <= found.count() < total
    assert all("filing" in found.nth(n).inner_text().lower() for n in range(found.count()))
    still_open = found.filter(has_not=page.locator("[data-status='done']"))  # leave the one ticked off
    chosen = [still_open.nth(n).get_attribute("id").removeprefix("item-") for n in (0, 1)]
    for n in (0, 1):
        still_open.nth(n).get_by_role("checkbox").check()
    bulk = page.locator("#bulk")
    bulk.get_by_label("Status").select_option("in_progress")
    bulk.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/checklist/?q=filing*")  # back to the same search
    assert set(
        ChecklistItem.objects.filter(organization=organization, status="in_progress").values_list("pk", flat=True)
    ) == {int(pk) for pk in chosen}
    shoot(page, "checklist-search-bulk")

    # The dashboard counts it, and its charts show it: the done part of the progress bars and
    # this week's column of duties done.
    page.get_by_role("link", name="Dashboard", exact=True).click()
    assert page.locator("[data-count='done']").inner_text() == "1"
    assert page.locator("#chart-phase rect.seg-done").count() == 1
    assert page.locator("#chart-phase rect.seg-in_progress").count() >= 1
    assert page.locator("#chart-done rect").last.locator("title").text_content().endswith(": 1")
    page.locator("#chart-done summary").click()
    assert page.locator("#chart-done table tbody tr").last.locator("td").last.inner_text() == "1"
    shoot(page, "dashboard")

    # The audit pack, as a workbook: the statement of applicability and the checklist.
    page.get_by_role("link", name="Audit pack", exact=True).click()
    page.get_by_label("Excel workbook, to sort and filter").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename.startswith("audit-pack-acme-")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames[:2] == ["Audit pack", "Statement of applicability"]
    current = ChecklistItem.objects.filter(organization=organization, superseded_at__isnull=True)
    assert book["Checklist"].max_row == current.count() + 1  # duties, opportunities, expectations
    shoot(page, "audit-pack")

    # The item page shows the article and why it applies.
    page.goto(f"{live_server.url}/organizations/{organization.pk}/checklist/{item_id.removeprefix('item-')}/")
    assert "Why it applies" in page.content() and page.locator("blockquote").count() >= 1
    shoot(page, "item")

    # Switch to Chinese.
    page.goto(f"{live_server.url}/organizations/{organization.pk}/")
    page.locator("#language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("link", name="概览", exact=True).wait_for()
    assert "已完成" in page.content()
    shoot(page, "dashboard-zh")

    # A phone-width screen: nothing wider than the screen but the scrollable tables.
    phone = browser.new_page(locale="zh-CN", viewport={"width": 375, "height": 800})
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server.url}/organizations/{organization.pk}/checklist/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(phone, "checklist-phone")
    phone.goto(f"{live_server.url}/organizations/{organization.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # the charts fit
    shoot(phone, "dashboard-phone")
