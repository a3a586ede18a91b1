"""Reasons and conditions in words. The engine (regulations.applicability) keeps each reason as
structure: the test, its result, a message code and its parameters, which name vocabulary
terms by key. Here they become sentences in the reader's language, with the vocabulary's
names: "注册地为中国（上海）自由贸易试验区临港新片区，属于上海市范围" rather than
"registered_in CN-SH-LG is within CN-SH". Pure: the names come in a ``Labels`` built once per
catalogue version (regulations.selectors.labels)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .applicability import MESSAGES, VERDICT_ZH

# Place facts, in words: how the organization is linked to the place.
PLACE_PHRASES = {
    "registered_in": ("注册地为{place}", "Registered in {place}"),
    "operates_in": ("在{place}开展业务", "Operates in {place}"),
    "data_sourced_in": ("数据来自{place}", "Uses data from {place}"),
    "public_data_of": ("使用或运营{place}的公共数据", "Uses or operates the public data of {place}"),
}
VERDICTS_EN = {"holds": "holds", "does not hold": "does not hold", "unknown": "not known yet"}


@dataclass(frozen=True)
class Labels:
    """Names of vocabulary terms, (kind, key) -> (zh, en). Kinds: "role", "place", "fact",
    "event", and "value" with the key "fact:value"."""

    names: Mapping[tuple[str, str], tuple[str, str]]

    def name(self, kind: str, key: Any, lang: str) -> str:
        zh, en = self.names.get((kind, str(key)), (str(key), str(key)))
        return zh if lang == "zh" else en

    def value(self, fact: str, value: Any, lang: str, places: bool = False) -> str:
        """An answer's value in words: a place, a role, a listed value, yes/no or a number."""
        if isinstance(value, bool):
            return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
        if places:
            return self.name("place", value, lang)
        if fact == "roles":
            return self.name("role", value, lang)
        if (("value", f"{fact}:{value}")) in self.names:
            return self.name("value", f"{fact}:{value}", lang)
        return str(value)


DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百]+")


def chinese_number(text: str) -> int:
    """二十三 -> 23, 一百零五 -> 105: the numbers of article and item labels."""
    total, digit = 0, 0
    for char in text:
        if char == "百":
            total, digit = total + (digit or 1) * 100, 0
        elif char == "十":
            total, digit = total + (digit or 1) * 10, 0
        else:
            digit = DIGITS[char]
    return total + digit


def provision_label(label: str, lang: str) -> str:
    """A provision's label as a reader of ``lang`` cites it. Chinese readers get the source's
    own label (第十九条, 二、（一）); English readers the same citation in their conventions:
    Art. 19, 2.(1), para. 3, sentence 2. Section headings a label quotes stay as written."""
    if lang == "zh":
        return label
    return ", ".join(_label_part(part) for part in label.split("·"))


def _label_part(text: str) -> str:
    n = r"([零〇一二两三四五六七八九十百\d]+)"
    text = re.sub(f"^{n}$", lambda m: str(_number(m[1])), text)
    text = re.sub(f"第{n}条", lambda m: f"Art. {_number(m[1])}", text)
    text = re.sub(f"第{n}段", lambda m: f"para. {_number(m[1])}", text)
    text = re.sub(f"第{n}句", lambda m: f"sentence {_number(m[1])}", text)
    text = re.sub(f"{n}、", lambda m: f"{_number(m[1])}.", text)
    text = re.sub(f"[（(]{n}[）)]", lambda m: f"({_number(m[1])})", text)
    # What is left in Chinese is a section heading the label quotes.
    return f"“{text}”" if re.search(r"[\u4e00-\u9fff]", text) else text


def _number(text: str) -> int:
    return int(text) if text.isdigit() else chinese_number(text)


def _join(items: list[str], lang: str, last: str = "and") -> str:
    if lang == "zh":
        return "、".join(items)
    if len(items) < 3:
        return f" {last} ".join(items)
    return ", ".join(items[:-1]) + f", {last} " + items[-1]


def reason_text(
    reason: Mapping[str, Any], lang: str, labels: Labels, conditions: Mapping[str, Any] | None = None
) -> str:
    """One reason (``{"code", "params", ...}``, as the engine and the checklist keep it) as a
    sentence. ``conditions``: the obligation's condition, for a reason about it."""
    code, params = reason["code"], reason.get("params") or {}
    zh = lang == "zh"
    if code == "in_scope":
        place = labels.name("place", params["value"], lang)
        area = labels.name("place", params["jurisdiction"], lang)
        phrase = PLACE_PHRASES[params["fact"]][0 if zh else 1].format(place=place)
        if params["value"] == params["jurisdiction"]:
            return phrase + ("。" if zh else ".")
        return f"{phrase}，属于{area}范围。" if zh else f"{phrase}, which is within {area}."
    if code == "out_of_scope" and params.get("places"):  # the places the instrument counts, by name
        area = labels.name("place", params["jurisdiction"], lang)
        names = [labels.name("fact", fact, lang) for fact in params["places"].split(",")]
        if zh:
            return f"组织的{'、'.join(names)}均不在{area}范围内。"
        return f"None of the organization's {_join(names, lang, 'or')} lies within {area}."
    if code in ("out_of_scope", "scope_unknown"):
        area = labels.name("place", params["jurisdiction"], lang)
        return MESSAGES[code][1 if zh else 0].format(jurisdiction=area)
    if code in ("role_match", "role_awaits", "role_no_match", "role_unknown"):
        roles = [labels.name("role", key.strip(), lang) for key in params["roles"].split(",")]
        return MESSAGES[code][1 if zh else 0].format(
            roles=_join(roles, lang, "and" if code in ("role_match", "role_awaits") else "or")
        )
    if code == "condition":
        verdict = params["verdict"]
        described = condition_text(conditions, lang, labels) if conditions else params["condition"]
        if zh:
            return f"条件：{described}——{VERDICT_ZH[verdict]}。"
        return f"Condition: {described}: {VERDICTS_EN[verdict]}."
    if code == "expired" and not _is_date(params.get("date")):
        return "该文件已失效（失效日期未记录）。" if zh else "The instrument has expired (the date is not recorded)."
    en, zh_text = MESSAGES[code]
    return (zh_text if zh else en).format(**params)


def _is_date(value: Any) -> bool:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def condition_text(condition: Mapping[str, Any], lang: str, labels: Labels, nested: bool = False) -> str:
    """A catalogue condition in words, e.g. 服务功能包括“生成或编辑人脸、人声等生物识别信息”."""
    zh = lang == "zh"
    if "all" in condition or "any" in condition:
        parts = [condition_text(c, lang, labels, nested=True) for c in condition.get("all") or condition["any"]]
        joiner = ("且" if zh else "and") if "all" in condition else ("或" if zh else "or")
        joined = joiner.join(parts) if zh else f" {joiner} ".join(parts)
        return (f"（{joined}）" if zh else f"({joined})") if nested else joined
    if "not" in condition:
        inner = condition["not"]
        if "event" in inner and "reported" in inner:
            event = labels.name("event", inner["event"], lang)
            return f"尚未报告“{event}”" if zh else f"{event} not reported"
        text = condition_text(inner, lang, labels, nested=True)
        return f"并非{text}" if zh else f"not {text}"
    if "event" in condition:
        event = labels.name("event", condition["event"], lang)
        if "reported" in condition:
            return f"已报告“{event}”" if zh else f"{event} reported"
        if "before" in condition:
            return f"“{event}”早于{condition['before']}" if zh else f"{event} before {condition['before']}"
        return f"“{event}”不早于{condition['on_or_after']}" if zh else f"{event} on or after {condition['on_or_after']}"
    fact = condition["fact"]
    name = labels.name("fact", fact, lang)
    places = fact in PLACE_PHRASES

    def word(value: Any) -> str:
        text = labels.value(fact, value, lang, places=places)
        return f"“{text}”" if zh and not isinstance(value, int | float) else text

    if "is" in condition:
        value = condition["is"]
        if isinstance(value, bool):
            return f"{name}：{'是' if value else '否'}" if zh else f"{name}: {'yes' if value else 'no'}"
        return f"{name}为{word(value)}" if zh else f"{name} is {word(value)}"
    if "in" in condition:
        options = [word(v) for v in condition["in"]]
        return f"{name}为{'或'.join(options)}" if zh else f"{name} is {_join(options, lang, 'or')}"
    if "includes" in condition:
        return f"{name}包括{word(condition['includes'])}" if zh else f"{name} include {word(condition['includes'])}"
    if "includes_any" in condition:
        options = [word(v) for v in condition["includes_any"]]
        if zh:
            return f"{name}包括{'、'.join(options)}中的至少一项"
        return f"{name} include {_join(options, lang, 'or')}"
    if "within" in condition:
        area = labels.name("place", condition["within"], lang)
        return f"{name}在{area}范围内" if zh else f"{name} within {area}"
    if "gte" in condition:
        return f"{name}不少于{condition['gte']:,}" if zh else f"{name} at least {condition['gte']:,}"
    return f"{name}少于{condition['lt']:,}" if zh else f"{name} below {condition['lt']:,}"
