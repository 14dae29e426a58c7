"""A mail server that takes a moment to accept each message (locmem otherwise).

Widens the window in which a webhook can interleave with a task that holds a
row lock while it sends, as a real SMTP round trip does.
"""

import time

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

DELAY = 0.2


class EmailBackend(LocmemBackend):
    def send_messages(self, messages):
        time.sleep(DELAY)
        return super().send_messages(messages)
