"""Chat robots' request formats: a WeCom group robot, a DingTalk custom robot and a Feishu custom
bot each take a Markdown message in its own JSON shape, the last two signed with the robot's
secret in their own way, and each answers HTTP 200 with a result code of its own.

WeCom: {"msgtype": "markdown", "markdown": {"content": ...}}, content at most 4,096 bytes;
answer {"errcode": 0, "errmsg": "ok"}.
DingTalk: {"msgtype": "markdown", "markdown": {"title", "text"}}; with a signing secret, the URL
carries timestamp (ms) and sign = Base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")), URL-
encoded; answer {"errcode": 0, "errmsg": "ok"}.
Feishu: {"msg_type": "interactive", "card": {...}} with a markdown element; with a signing
secret, the body carries timestamp (s) and sign = Base64(HMAC-SHA256(key="timestamp\\nsecret",
empty message)); answer {"code": 0, "msg": "success"}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote_plus

from .http import Answer

# Bytes of Markdown each vendor takes in one message (WeCom's documented limit; the others take
# more, kept well under their limits so a message is never refused for its length).
LIMITS = {"wecom": 4096, "dingtalk": 18000, "feishu": 25000}


def _hmac(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


def fit(title: str, lines: list[str], more: str, kind: str) -> str:
    """The title and as many lines as the vendor takes; ``more`` (with %(count)s) says how many
    were left out."""
    limit = LIMITS[kind] - len(title.encode()) - 200
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line.encode()) + 1
        if used + size > limit:
            kept.append(more % {"count": len(lines) - len(kept)})
            break
        kept.append(line)
        used += size
    return "\n".join(kept)


def request(kind: str, url: str, secret: str, title: str, markdown: str, *, now: float) -> tuple[str, bytes]:
    """(URL, JSON body) of a message to a robot; ``now`` is the Unix time for the signatures."""
    body: dict
    if kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{markdown}"}}
    elif kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{markdown}"}}
        if secret:
            stamp = str(int(now * 1000))
            sign = quote_plus(_hmac(secret, f"{stamp}\n{secret}"))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"
    elif kind == "feishu":
        body = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}, "template": "orange"},
                "elements": [{"tag": "markdown", "content": markdown}],
            },
        }
        if secret:
            stamp = str(int(now))
            body.update(timestamp=stamp, sign=_hmac(f"{stamp}\n{secret}", ""))
    else:
        raise ValueError(f"not a chat robot: {kind}")
    return url, json.dumps(body, ensure_ascii=False).encode()


def refusal(answer: Answer) -> str:
    """Why the robot did not take the message, or "" if it did: the vendors answer 200 with an
    error code for a wrong key, a bad signature or a rate limit."""
    if not 200 <= answer.status < 300:
        return f"HTTP {answer.status}: {answer.body[:300]}"
    try:
        result = json.loads(answer.body)
    except ValueError:
        return f"not a JSON answer: {answer.body[:300]}"
    code = result.get("errcode", result.get("code", result.get("StatusCode"))) if isinstance(result, dict) else None
    if code == 0:
        return ""
    message = result.get("errmsg") or result.get("msg") or result.get("StatusMessage") or ""
    return f"code {code}: {message}"[:300]
