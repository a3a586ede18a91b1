import pytest

from regulations.models import HolidaySchedule

pytestmark = pytest.mark.django_db
URL = "/api/v1/deadlines/compute"


def test_compute_endpoint_answers_with_explanation(api):
    response = api.post(URL, {"start": "2024-09-21", "amount": 10, "unit": "calendar_days"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["due_date"] == "2024-10-08"
    assert body["estimated"] is False
    assert body["skipped_rest_days"] == [f"2024-10-0{d}" for d in range(1, 8)]
    assert any("National Day" in line for line in body["explanation"])
    chinese = api.post(
        URL, {"start": "2024-09-21", "amount": 10, "unit": "calendar_days"}, format="json", HTTP_ACCEPT_LANGUAGE="zh"
    ).json()
    assert chinese["explanation"] == [
        "2024-09-21为起算日，当日不计入（民法典第二百零一条）。",
        "向后计算10日，为2024-10-01。",
        "该日为休息日，期间顺延至其后的第一个工作日2024-10-08（民法典第二百零三条）。",
        "跳过的休息日：2024-10-01至2024-10-07（国庆节）。",
    ]


def test_compute_endpoint_counts_makeup_days(api):
    body = api.post(
        URL, {"start": "2025-01-20", "amount": 10, "unit": "working_days", "direction": "after"}, format="json"
    ).json()
    assert body["due_date"] == "2025-02-08"
    assert body["makeup_days_counted"] == ["2025-01-26", "2025-02-08"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": 10, "unit": "working_days"}, "start"),
        ({"start": "2024-02-30", "amount": 10, "unit": "working_days"}, "start"),
        ({"start": "2024-01-01", "amount": -1, "unit": "working_days"}, "amount"),
        ({"start": "2024-01-01", "amount": "ten", "unit": "working_days"}, "amount"),
        ({"start": "2024-01-01", "amount": 10, "unit": "weeks"}, "unit"),
        ({"start": "2024-01-01", "amount": 10, "unit": "months", "direction": "around"}, "direction"),
        ({"start": "9999-01-01", "amount": 10, "unit": "years"}, "start"),
        ({"start": "2024-01-01", "amount": 10**9, "unit": "calendar_days"}, "amount"),
    ],
)
def test_compute_endpoint_names_the_bad_field(api, payload, field):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_operator_recorded_schedule_is_used(api):
    before = api.post(URL, {"start": "2026-12-30", "amount": 2, "unit": "working_days"}, format="json").json()
    assert (before["due_date"], before["estimated"]) == ("2027-01-04", True)  # New Year's Day by law
    HolidaySchedule.objects.create(
        year=2027,
        holidays=[{"date": "2027-01-01", "name": "New Year's Day"}],
        makeup_workdays=["2027-01-02"],
        source="test",
    )
    after = api.post(URL, {"start": "2026-12-30", "amount": 2, "unit": "working_days"}, format="json").json()
    assert (after["due_date"], after["estimated"]) == ("2027-01-02", False)  # the recorded make-up Saturday


def test_runs_on_postgresql_in_ci(postgres):
    from django.db import connection

    assert connection.vendor == "postgresql"
