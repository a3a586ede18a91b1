"""A first draft of a catalogue entry from a source text, for a curator to review.

The draft is the text cut into provisions (第N条; 一、（一）; numbered paragraphs of a summary),
each duty sentence (coverage.MARKER, plus 鼓励 and 可以 for incentives) as one proposed
obligation per role its actor phrase names (the vocabulary roles' ``aliases_zh``), with a
modality and kind from its words and a deadline rule from its timing phrase (N个工作日内,
N日内, 每季度, 每年, 立即 ...; numbers in words through cn2an). Nothing is invented: where the
draft cannot tell, it says so in the entry's interpretation. The file is marked
``review: unreviewed``, which the validator explains and the loader refuses.

``measure`` drafts every bundled instrument from its source and compares the proposals with
the curated entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import cn2an
import yaml

from . import coverage
from .validation import SCHEMA_PATH, Catalog, normalize

ARTICLE = re.compile(r"(?m)^\s*(第[一二三四五六七八九十百零〇]+条)")
SECTION = re.compile(r"(?m)^\s*([一二三四五六七八九十]+、)")
ITEM = re.compile(r"(（[一二三四五六七八九十]+）)")
INCENTIVE = re.compile(r"鼓励|可以|可(?=[向对在按])")
PROHIBITION = re.compile(r"不得|禁止|严禁|不准|有下列(?:情形|行为)之一的")  # the last: conduct the text sanctions
GOVERNMENT = frozenset({"government_body", "regulator"})
GOVERNMENT_WORDS = re.compile(r"人民政府|部门|局|委员会|办公室|领导小组|管委会")


@dataclass
class Provision:
    label: str
    text: str


@dataclass
class Proposal:
    ref: str
    sentence: str
    roles: list[str]
    actor_zh: str
    modality: str
    kind: str
    deadline: dict
    notes: list[str] = field(default_factory=list)
    lead: str = ""  # for a list item, the chapeau that gives it its duty


def provisions(source: str) -> list[Provision]:
    """The text cut into provisions: articles (第N条), else sections and their items (一、（一）),
    else paragraphs (a summary), labelled as the source writes them."""
    if len(ARTICLE.findall(source)) >= 2:
        return _cut(source, ARTICLE)
    if len(SECTION.findall(source)) >= 2:
        out = []
        for section in _cut(source, SECTION):
            items = _cut(section.text, ITEM)
            out += [Provision(section.label + item.label, item.text) for item in items] if items else [section]
        return out
    paragraphs = [p.strip() for p in source.split("\n") if len(p.strip()) > 10]
    return [Provision(f"第{n}段", p) for n, p in enumerate(paragraphs, 1)]


def _cut(text: str, pattern: re.Pattern) -> list[Provision]:
    marks = list(pattern.finditer(text))
    return [
        Provision(m.group(1), text[m.start(1) : marks[i + 1].start(1) if i + 1 < len(marks) else len(text)].strip())
        for i, m in enumerate(marks)
    ]


def aliases(roles: Mapping[str, Mapping]) -> list[tuple[str, str]]:
    """(alias, role), longest first, so that 深度合成服务技术支持者 wins over 技术支持者."""
    pairs = [(a, key) for key, role in roles.items() for a in [role["name_zh"], *role.get("aliases_zh", [])]]
    return sorted(set(pairs), key=lambda pair: -len(pair[0]))


# Words that name a party only when not followed by these: 个人信息 is data, not a person.
NOT_A_PARTY = {"个人": ("信息", "隐私", "数据", "权益", "敏感"), "企业": ("数据", "权益", "秘密", "信息")}


def actors(phrase: str, names: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The roles a phrase names and the words that name them, each place in it read once."""
    taken = [False] * len(phrase)
    roles, words = [], []
    for alias, role in names:
        for m in re.finditer(re.escape(alias), phrase):
            if phrase.startswith(NOT_A_PARTY.get(alias, ()), m.end()):
                continue
            if not any(taken[m.start() : m.end()]):
                taken[m.start() : m.end()] = [True] * len(alias)
                if role not in roles:
                    roles.append(role)
                    words.append(alias)
    return roles, words


def number(words: str) -> int | None:
    try:
        return int(cn2an.cn2an(words, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


PERIOD = re.compile(r"([0-9一二三四五六七八九十百两]+)\s*(个工作日|个月|日|天|年)内")
# Events a period runs from, by the words that name them in the sentence.
EVENT_WORDS = (
    (re.compile(r"变更"), "filing_info_changed"),
    (re.compile(r"终止|注销"), "service_terminated"),
    (re.compile(r"上线|提供服务|开展业务"), "service_launched"),
    (re.compile(r"发现|发生"), "incident_detected"),
    (re.compile(r"收到|受理|申请|提出"), "request_received"),
    (re.compile(r"签订|签署"), "contract_signed"),
    (re.compile(r"到期|届满"), "authorization_expires"),
    (re.compile(r"授权"), "authorization_granted"),
)
SCHEDULES = (
    ("每季度", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1", "schedule"),
    ("每半年", "FREQ=MONTHLY;INTERVAL=6", "last_completion"),
    ("每年", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31", "schedule"),
    ("每月", "FREQ=MONTHLY;BYMONTHDAY=-1", "schedule"),
)
WORDS = ("立即", "第一时间", "及时", "定期", "逐步")
UNITS = {"个工作日": "working_days", "日": "calendar_days", "天": "calendar_days", "个月": "months", "年": "years"}


def deadline(sentence: str) -> tuple[dict, list[str]]:
    """A deadline rule from the sentence's timing phrase, and what the draft could not tell."""
    event = next((key for pattern, key in EVENT_WORDS if pattern.search(sentence)), None)
    if m := PERIOD.search(sentence):
        amount = number(m.group(1))
        if amount and event:
            rule = {"kind": "after_event", "event": event, "amount": amount, "unit": UNITS[m.group(2)]}
            return rule | {"text_zh": m.group(0)}, [f"event read from the words: {event}"]
        return {"kind": "qualitative", "text_zh": m.group(0)}, ["a period whose start the draft could not tell"]
    for words, rrule, anchor in SCHEDULES:
        if words in sentence:
            return {"kind": "recurring", "rrule": rrule, "anchor": anchor, "text_zh": words}, []
    for words in WORDS:
        if words in sentence:
            rule = {"kind": "qualitative", "text_zh": words}
            return (rule | {"event": event} if event else rule), []
    return {"kind": "ongoing"}, []


# Besides the coverage markers, words that carry a duty in drafting practice: 需 (not 需求), 要
# (not 要求, 要素, 重要, 主要, 需要, 必要, 纲要), 确保, 遵守, 遵循, 切实履行, 及时 (done in time), 只能,
# 承担 (a task), 接受 (supervision). The drafter may propose more than the coverage test holds: a
# curator strikes what is not a duty.
MORE_DUTY = re.compile(
    r"需(?![求要])|(?<![重主需纲摘首必提])要(?![求素点件闻])|确保|遵守|遵循|切实履行|及时|只能|承担|接受"
)


def propose(provision: Provision, names: list[tuple[str, str]]) -> Iterator[Proposal]:
    chapeau: str | None = None  # a sentence ending in a colon: its list items inherit its duty
    chapeau_text = ""
    subject: tuple[list[str], list[str]] = ([], [])  # the last parties named, for sentences naming none
    for sentence in coverage.sentences(provision.text):
        bare = sentence.replace(" ", "")  # sources break words with stray spaces (负 责)
        if chapeau and coverage.LIST_ITEM.match(sentence):
            proposals = list(_proposals(provision.label, sentence, chapeau, names, subject))
            for p in proposals:
                p.lead = chapeau_text
        else:
            # A list's opening line: a duty word, or a party providing "the following" (以下服务：).
            listing = bare.endswith(("：", ":")) and (_marked(bare) or re.search(r"以下|下列", bare))
            chapeau = bare if listing else None
            chapeau_text = sentence
            proposals = list(_proposals(provision.label, sentence, bare, names, subject)) if _marked(bare) else []
            named = actors(bare, names)
            if named[0] and not proposals:
                subject = named
        if chapeau is None and proposals and "no role named" not in " ".join(proposals[0].notes):
            subject = ([r for p in proposals for r in p.roles], [p.actor_zh for p in proposals])
        yield from proposals  # a chapeau too: some texts put the whole duty in it


def _marked(text: str) -> bool:
    return bool(_duty_word(text) or INCENTIVE.search(text))


def _duty_word(text: str) -> re.Match | None:
    return coverage.MARKER.search(text) or MORE_DUTY.search(text) or PROHIBITION.search(text)


def _proposals(
    ref: str, sentence: str, words: str, names: list[tuple[str, str]], subject: tuple[list[str], list[str]]
) -> Iterator[Proposal]:
    """The proposals of one sentence, whose duty words (its own, or its chapeau's) are ``words``;
    a sentence that names no party before its duty word carries on the last one named."""
    marker = _duty_word(words)
    incentive = INCENTIVE.search(words)
    cut = min((m.start() for m in (marker, incentive) if m), default=len(words))
    roles, said = actors(words[:cut], names)
    notes = []
    if not roles and subject[0]:
        roles, said = list(subject[0]), list(subject[1])
    if not roles:
        roles, said = actors(words, names)
    if not roles:
        government = GOVERNMENT_WORDS.search(words[:cut])
        roles, said = (["government_body"], [government.group(0)]) if government else (["enterprise"], [""])
        notes.append("no role named in the sentence: the role is a guess")
    rule, deadline_notes = deadline(sentence)
    for role, word in zip(roles, said, strict=True):
        if PROHIBITION.search(words):
            modality, kind = "must_not", "prohibition"
        elif incentive and not marker:
            modality, kind = ("encouraged" if "鼓励" in words else "may"), "incentive"
        else:
            modality, kind = "must", "duty"
        if role in GOVERNMENT and kind in ("duty", "prohibition"):
            modality, kind = "must", "authority_duty"
        yield Proposal(ref, sentence, [role], word, modality, kind, rule, notes + deadline_notes)


def draft(source: str, roles: Mapping[str, Mapping]) -> tuple[list[Provision], list[Proposal]]:
    names = aliases(roles)
    cut = provisions(source)
    return cut, [p for provision in cut for p in propose(provision, names)]


def code_problem(code: str) -> str:
    """Why ``code`` cannot name an instrument (the schema's rule), or "" if it can."""
    rule = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]["code"]
    if len(code) > rule["maxLength"] or not re.fullmatch(rule["pattern"], code):
        return f"'{code}' is not an instrument code: lowercase letters, digits and single hyphens, e.g. cn-example-2027"
    return ""


def draft_yaml(source: str, code: str, roles: Mapping[str, Mapping]) -> str:
    """The draft as an instrument file, marked unreviewed."""
    cut, proposals = draft(source, roles)
    title = next((line.strip() for line in source.splitlines() if line.strip()), code)
    used = {p.ref for p in proposals}
    seen: dict[str, int] = {}
    obligations = []
    for p in proposals:
        stem = f"{_slug(p.ref)}-{p.roles[0].replace('_', '-')}"
        seen[stem] = seen.get(stem, 0) + 1
        obligations.append(
            {
                "id": stem if seen[stem] == 1 else f"{stem}-{seen[stem]}",
                "ref": p.ref,
                "roles": p.roles,
                "actor_zh": p.actor_zh or "（待定）",
                "modality": p.modality,
                "kind": p.kind,
                "phase": "in_operation",
                **({"lead_zh": p.lead} if p.lead else {}),
                "quote_zh": p.sentence,
                "summary_en": "(to be written)",
                "summary_zh": "（待撰写）",
                "deadline": p.deadline,
                **({"interpretation": "Draft: " + "; ".join(p.notes) + "."} if p.notes else {}),
            }
        )
    document = {
        "review": "unreviewed",
        "code": code,
        "title_zh": title,
        "title_en": "(to be written)",
        "short_title_zh": title[:30],
        "short_title_en": "(to be written)",
        "issuer_zh": "（待填写）",
        "jurisdiction": "CN",
        "place_basis": ["registered_in", "operates_in"],
        "nature": "normative_document",
        "status": "in_force",
        "source": {
            "file": f"{code}.txt",
            "origin": "(to be written: where the text comes from)",
            "kind": "full_text" if len(ARTICLE.findall(source)) >= 2 else "summary",
        },
        "provisions": [{"label": c.label, "text": c.text} for c in cut if c.label in used],
        "obligations": obligations,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)


def _slug(label: str) -> str:
    """第二十四条 -> p24, 一、（三） -> p13, 第2段 -> p2."""
    parts = re.findall(r"[0-9]+|[一二三四五六七八九十百零〇]+", label)
    return "p" + "".join(part if part.isdigit() else str(number(part) or "") for part in parts)


# --- Measuring the drafter on the curated catalogue --------------------------------------------


@dataclass
class Score:
    code: str
    curated: int  # curated duties and prohibitions
    found: int  # of those, whose sentence the draft proposes
    proposed: int
    curated_proposals: int  # proposals whose sentence holds a curated obligation of any kind
    role_right: int  # of the found duties, with a role the curated entry names
    deadline_right: int  # of the found duties, with the curated deadline kind

    def share(self, part: int, whole: int) -> float:
        return part / whole if whole else 1.0


def _same(sentence: str, quote: str) -> bool:
    sentence, quote = normalize(sentence), normalize(quote)
    return quote in sentence or sentence.rstrip("。；;，,") in quote


def measure(catalog: Catalog) -> list[Score]:
    scores = []
    for instrument in catalog.instruments:
        source = catalog.sources[instrument["code"]]
        _, proposals = draft(source, catalog.vocabulary.roles)
        curated = instrument["obligations"]
        duties = [ob for ob in curated if ob["kind"] in ("duty", "prohibition")]
        found = role_right = deadline_right = 0
        for ob in duties:
            matches = [p for p in proposals if _same(p.sentence, ob["quote_zh"])]
            if matches:
                found += 1
                role_right += any(set(p.roles) & set(ob["roles"]) for p in matches)
                deadline_right += any(p.deadline["kind"] == ob["deadline"]["kind"] for p in matches)
        hits = sum(1 for p in proposals if any(_same(p.sentence, ob["quote_zh"]) for ob in curated))
        scores.append(Score(instrument["code"], len(duties), found, len(proposals), hits, role_right, deadline_right))
    return scores


def score_table(scores: list[Score]) -> str:
    """The measurement as a Markdown table, one row per instrument and the totals."""
    rows = [
        "| instrument | curated duties | recall | proposed | precision | role right | deadline right |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = Score("all", 0, 0, 0, 0, 0, 0)
    for s in [*scores, total]:
        if s is not total:
            for name in ("curated", "found", "proposed", "curated_proposals", "role_right", "deadline_right"):
                setattr(total, name, getattr(total, name) + getattr(s, name))
        rows.append(
            f"| {s.code} | {s.curated} | {s.share(s.found, s.curated):.0%} | {s.proposed} "
            f"| {s.share(s.curated_proposals, s.proposed):.0%} | {s.share(s.role_right, s.found):.0%} "
            f"| {s.share(s.deadline_right, s.found):.0%} |"
        )
    return "\n".join(rows) + "\n"
