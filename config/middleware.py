"""A database outage answers 503 on every page, not a 500: the API does this in its exception
handler, this middleware does it for the web pages and the admin."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

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
