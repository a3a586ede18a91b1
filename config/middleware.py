"""Answers the service gives before or around a view: a database outage is a 503 on every page
(the API does this in its exception handler, this middleware for the pages and the admin), and
an over-long URL a 414."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.exception("database unavailable")
        response = HttpResponse(
            "The service cannot reach its database. Try again in a few minutes.\n"
            "服务暂时无法连接数据库，请稍后再试。\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "60"
        return response


# The longest URL (path and query) answered: long enough for any filter the API offers, short
# enough to refuse a request line built to exhaust the server. gunicorn's own limit
# (config/gunicorn.py) sits above it, so the answer comes from here, in the API's shape.
MAX_URL_LENGTH = 4096


class UrlLengthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = len(request.get_full_path())
        if length <= MAX_URL_LENGTH:
            return self.get_response(request)
        detail = f"The URL has {length} characters; the limit is {MAX_URL_LENGTH}."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "uri_too_long"}, status=414)
        return HttpResponse(detail + "\n", status=414, content_type="text/plain; charset=utf-8")
