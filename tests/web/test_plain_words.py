"""Every page in the reader's language, in a real browser: Debian's Chromium signs in once with
zh-CN and once with en, walks every page an officer uses (dashboard, checklist with filters,
items with reasons, a due-date explanation and history, a set-aside item, the questionnaire,
preferences, the audit log, the catalogue and an instrument), saves a screenshot of each and
reads everything shown, including closed sections and the accessible names of controls. None
of it may be a vocabulary key, an instrument code or a snake_case token, and in Chinese none of
it an English sentence."""

import datetime as dt

import pytest

from obligations import services
from obligations.models import ChecklistItem, Delivery, Membership, OutboundEvent
from obligations.services import outbound
from obligations.services.checklist import item_comment, item_update
from obligations.services.demo import DEMO_PROFILE
from obligations.services.evidence import evidence_add
from obligations.services.profile import event_report, profile_update
from tests.plain import CJK, problems, vocabulary

from .test_browser import browser, shoot  # noqa: F401  (the fixture)

# What a person typed, in their own words: names and notes are theirs, not the service's.
TYPED = ("wangfang", "lina", "临港示例科技有限公司", "换脸应用上线", "董事会已通过制度。", "请法务复核。")

# WCAG 2.5.3 (label in name): a control's accessible name contains the words it shows, so a
# person who says what they see to a voice control, or hears a screen reader, finds it.
NAME_MISMATCHES = """() => [
  ...document.querySelectorAll("button[aria-label], a[aria-label], [role=button][aria-label]")]
  .filter((el) => el.innerText.trim() && !el.getAttribute("aria-label").toLowerCase()
    .includes(el.innerText.trim().toLowerCase()))
  .map((el) => `${el.innerText.trim()} / ${el.getAttribute("aria-label")}`)"""

READ_EVERYTHING = """() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.getAttribute(name)) parts.push(el.getAttribute(name));
    }
  }
  for (const el of document.querySelectorAll("option, button, input[type=submit]")) {
    parts.push(el.textContent || el.value || "");
  }
  return parts.join("\\n");
}"""


@pytest.fixture
def organization(django_user_model):
    """A Lingang company running a face-swap app, a few weeks into its work: a launch reported,
    an item done with evidence and a comment, an answer withdrawn (so items wait for it) and a
    role dropped (so items are set aside), each leaving history written by the system."""
    wang = django_user_model.objects.create_user("wangfang", "wang@example.com", "pw-wangfang-123")
    li = django_user_model.objects.create_user("lina", "li@example.com", "pw-lina-123")
    organization = services.organization_create(user=wang, name="临港示例科技有限公司", slug="lingang")
    Membership.objects.create(organization=organization, user=li, role=Membership.Role.OFFICER)
    profile_update(organization=organization, answers=DEMO_PROFILE, unset=[], replace=True, changed_by=wang)
    event_report(
        organization=organization,
        reported_by=wang,
        type_id="service_launched",
        date=dt.date.today() - dt.timedelta(days=3),
        subject="换脸应用上线",
    )
    items = ChecklistItem.objects.current().filter(organization=organization)
    done = items.filter(due_date__isnull=True)[0]
    done = item_update(done, actor=wang, expected_version=done.version, status="done", assignee=li)
    evidence_add(done, actor=wang, evidence_date=dt.date.today(), note="董事会已通过制度。")
    item_comment(done, actor=li, text="请法务复核。")
    profile_update(organization=organization, answers={"features": None}, unset=[], replace=False, changed_by=wang)
    roles = [r for r in DEMO_PROFILE["roles"] if r != "app_operator"]
    profile_update(organization=organization, answers={"roles": roles}, unset=[], replace=False, changed_by=wang)
    # A webhook and a group robot (public addresses written as numbers: nothing is looked up or
    # posted), with an event that reached one and failed at the other.
    hook = outbound.endpoint_create(organization, actor=wang, kind="webhook", url="https://93.184.215.14/hook")
    robot = outbound.endpoint_create(
        organization, actor=wang, kind="wecom", name="合规群", url="https://93.184.215.14/robot", language="zh"
    )
    event = OutboundEvent.objects.create(organization=organization, type="item.overdue", key="overdue:1")
    Delivery.objects.create(endpoint=hook, event=event, status="delivered", attempts=1, response_status=204)
    Delivery.objects.create(endpoint=robot, event=event, status="failed", attempts=8, response_status=500)
    return organization


def pages(organization) -> dict[str, str]:
    """Name -> path of every page an officer reads."""
    base = f"/organizations/{organization.pk}"
    items = ChecklistItem.objects.filter(organization=organization)
    # .get() would need one row; each of these kinds has several, and any of them will do.
    dated = items.filter(superseded_at__isnull=True, event__isnull=False, due_date__isnull=False)[0]
    waiting = items.filter(superseded_at__isnull=True, applicability="needs_review")[0]
    set_aside = items.filter(superseded_at__isnull=False)[0]
    worked = items.filter(status="done")[0]
    phase = dated.obligation.phase.key
    instrument = dated.obligation.instrument.code
    return {
        "organizations": "/organizations/",
        "dashboard": f"{base}/",
        "checklist": f"{base}/checklist/",
        "checklist-filtered": f"{base}/checklist/?phase={phase}&status=open&instrument={instrument}",
        "checklist-set-aside": f"{base}/checklist/?superseded=true",
        "opportunities": f"{base}/opportunities/",
        "item-dated": f"{base}/checklist/{dated.pk}/",
        "item-waiting": f"{base}/checklist/{waiting.pk}/",
        "item-set-aside": f"{base}/checklist/{set_aside.pk}/",
        "item-worked": f"{base}/checklist/{worked.pk}/",
        "questionnaire": f"{base}/profile/",
        "preferences": f"{base}/preferences/",
        "audit": f"{base}/audit/",
        "audit-pack": f"{base}/audit-pack/",
        "members": f"{base}/members/",
        "endpoints": f"{base}/endpoints/",
        "changes": f"{base}/changes/",
        "downloads": f"{base}/downloads/",
        "tokens": "/account/tokens/",
        "join": "/invitations/accept/?code=inv_unknown",
        "audit-pack-refused": f"{base}/audit-pack/?as_of=2001-01-01&lang=zh&file=xlsx",
        "catalogue": "/catalog/",
        "instrument": f"/catalog/{instrument}/",
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("locale", "lang"), [("zh-CN", "zh"), ("en-US", "en")])
def test_every_page_speaks_the_readers_language(live_server, browser, organization, settings, locale, lang):  # noqa: F811
    settings.DEBUG = True  # the live server serves static files from the apps
    words = vocabulary()
    page = browser.new_page(locale=locale, viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    found = {"sign-in": problems(page.evaluate(READ_EVERYTHING), lang, words, TYPED)}
    page.fill("input[name=username]", "wangfang")
    page.fill("input[name=password]", "pw-wangfang-123")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"**/organizations/{organization.pk}/")

    walked = pages(organization)
    for name, path in walked.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, path)
        text = page.evaluate(READ_EVERYTHING)
        shoot(page, f"{lang}-{name}")
        found[name] = problems(text, lang, words, TYPED) + page.evaluate(NAME_MISMATCHES)
        if lang == "zh":  # the page is in Chinese, not only free of English
            assert len(CJK.findall(text)) > 20, name

    assert {name: issues for name, issues in found.items() if issues} == {}
    # The pages said what they are for: reasons, a computed date and system history in words.
    page.goto(live_server.url + walked["item-dated"])
    body = page.evaluate(READ_EVERYTHING)
    expected = ("起算日", "系统", "适用") if lang == "zh" else ("start day", "The system", "applies")
    assert all(word in body for word in expected), body


@pytest.mark.django_db
def test_the_checker_finds_what_the_issue_reported():
    """The check above is only as good as this: the texts users saw before, it refuses."""
    words = vocabulary()
    assert problems("registered_in为CN-SH-LG，属于CN范围。", "zh", words) == [
        "code CN-SH-LG",
        "code registered_in",
        "place code CN-SH-LG",
        "snake_case registered_in",
    ]
    assert problems("The organization plays deep_synthesis_provider.", "en", words) == [
        "code deep_synthesis_provider",
        "snake_case deep_synthesis_provider",
    ]
    assert problems("cn-deep-synthesis-2022 第四条", "zh", words) == ["code cn-deep-synthesis-2022"]
    assert problems("义务: Providers must verify the identity of users", "zh", words) == [
        "English “Providers must verify the identity of users”"
    ]
    # A lone English word on a Chinese page is caught too (a unit left as its code was).
    assert problems("从业人数：120 persons", "zh", words) == ["English word “persons”"]
    # Names a person typed, links and single technical words are not sentences.
    assert problems("王芳 上传了 report.pdf：https://example.com/a_b 见 APP 备案", "zh", words, ("王芳",)) == []
