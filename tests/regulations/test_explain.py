"""Reasons and conditions put into words (regulations.explain), with a small vocabulary."""

import pytest

from regulations.explain import Labels, condition_text, reason_text

LABELS = Labels(
    {
        ("place", "CN"): ("中华人民共和国", "China"),
        ("place", "CN-SH"): ("上海市", "Shanghai"),
        ("place", "CN-SH-LG"): ("临港新片区", "Lingang"),
        ("role", "app_operator"): ("APP主办者", "App operator"),
        ("role", "enterprise"): ("企业", "Enterprise"),
        ("role", "data_processor"): ("数据处理者", "Data processor"),
        ("fact", "features"): ("服务功能", "service features"),
        ("fact", "employees"): ("从业人数", "number of employees"),
        ("fact", "has_ethics_committee"): ("设有科技伦理委员会", "has an ethics committee"),
        ("fact", "ownership"): ("所有制与层级", "ownership"),
        ("fact", "registered_in"): ("注册地", "place of registration"),
        ("fact", "operates_in"): ("经营地", "places of operation"),
        ("value", "features:biometric_editing"): ("编辑生物识别信息", "Edits biometric information"),
        ("value", "features:face_generation"): ("人脸生成", "Face generation"),
        ("value", "ownership:private"): ("民营企业", "Private"),
        ("value", "ownership:central_soe"): ("中央企业", "Central SOE"),
        ("event", "service_launched"): ("服务上线", "Service launched"),
    }
)


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        (
            {"code": "in_scope", "params": {"fact": "registered_in", "value": "CN-SH-LG", "jurisdiction": "CN-SH"}},
            "注册地为临港新片区，属于上海市范围。",
            "Registered in Lingang, which is within Shanghai.",
        ),
        (
            {"code": "in_scope", "params": {"fact": "operates_in", "value": "CN-SH", "jurisdiction": "CN-SH"}},
            "在上海市开展业务。",
            "Operates in Shanghai.",
        ),
        (
            {"code": "out_of_scope", "params": {"jurisdiction": "CN-SH"}},
            "与本文件相关的地点均不在上海市范围内。",
            "None of the places that count for this instrument is within Shanghai.",
        ),
        (
            {"code": "out_of_scope", "params": {"jurisdiction": "CN-SH", "places": "registered_in,operates_in"}},
            "组织的注册地、经营地均不在上海市范围内。",
            "None of the organization's place of registration or places of operation lies within Shanghai.",
        ),
        (
            {"code": "role_match", "params": {"roles": "app_operator, enterprise"}},
            "组织承担APP主办者、企业角色。",
            "The organization plays App operator and Enterprise.",
        ),
        (
            {"code": "role_no_match", "params": {"roles": "app_operator, data_processor, enterprise"}},
            "适用于APP主办者、数据处理者、企业，组织不承担该角色。",
            "Addressed to App operator, Data processor, or Enterprise, which the organization does not play.",
        ),
        (
            {"code": "in_force", "params": {"status": "in force", "status_zh": "现行有效"}},
            "该文件现行有效。",
            "The instrument is in force.",
        ),
        (
            {"code": "expired", "params": {"date": "an unrecorded date"}},
            "该文件已失效（失效日期未记录）。",
            "The instrument has expired (the date is not recorded).",
        ),
        (
            {"code": "expired", "params": {"date": "2025-12-31"}},
            "该文件已于2025-12-31失效。",
            "The instrument expired on 2025-12-31.",
        ),
    ],
)
def test_reason_in_words(reason, zh, en):
    assert reason_text(reason, "zh", LABELS) == zh
    assert reason_text(reason, "en", LABELS) == en


def test_condition_reason_uses_the_obligations_condition():
    reason = {"code": "condition", "params": {"condition": "features includes biometric_editing", "verdict": "unknown"}}
    condition = {"fact": "features", "includes": "biometric_editing"}
    assert reason_text(reason, "zh", LABELS, condition) == "条件：服务功能包括“编辑生物识别信息”——未知。"
    assert reason_text(reason, "en", LABELS, condition) == (
        "Condition: service features include Edits biometric information: not known yet."
    )


@pytest.mark.parametrize(
    ("condition", "zh", "en"),
    [
        ({"fact": "has_ethics_committee", "is": False}, "设有科技伦理委员会：否", "has an ethics committee: no"),
        ({"fact": "ownership", "is": "private"}, "所有制与层级为“民营企业”", "ownership is Private"),
        (
            {"fact": "ownership", "in": ["private", "central_soe"]},
            "所有制与层级为“民营企业”或“中央企业”",
            "ownership is Private or Central SOE",
        ),
        (
            {"fact": "features", "includes_any": ["biometric_editing", "face_generation"]},
            "服务功能包括“编辑生物识别信息”、“人脸生成”中的至少一项",
            "service features include Edits biometric information or Face generation",
        ),
        ({"fact": "registered_in", "within": "CN-SH"}, "注册地在上海市范围内", "place of registration within Shanghai"),
        ({"fact": "employees", "gte": 1000}, "从业人数不少于1,000", "number of employees at least 1,000"),
        ({"fact": "employees", "lt": 50}, "从业人数少于50", "number of employees below 50"),
        ({"event": "service_launched", "reported": True}, "已报告“服务上线”", "Service launched reported"),
        (
            {"not": {"event": "service_launched", "reported": True}},
            "尚未报告“服务上线”",
            "Service launched not reported",
        ),
        (
            {"event": "service_launched", "before": "2023-08-08"},
            "“服务上线”早于2023-08-08",
            "Service launched before 2023-08-08",
        ),
        (
            {
                "all": [
                    {"fact": "employees", "gte": 50},
                    {
                        "any": [
                            {"fact": "ownership", "is": "private"},
                            {"not": {"fact": "has_ethics_committee", "is": True}},
                        ]
                    },
                ]
            },
            "从业人数不少于50且（所有制与层级为“民营企业”或并非设有科技伦理委员会：是）",
            "number of employees at least 50 and (ownership is Private or not has an ethics committee: yes)",
        ),
    ],
)
def test_condition_in_words(condition, zh, en):
    assert condition_text(condition, "zh", LABELS) == zh
    assert condition_text(condition, "en", LABELS) == en
