"""An email backend that sends nothing: it only counts messages (per process)."""

from django.core.mail.backends.base import BaseEmailBackend


class CountingBackend(BaseEmailBackend):
    sent = 0

    def send_messages(self, email_messages):
        count = len(list(email_messages))
        CountingBackend.sent += count
        return count
