from typing import Any

from django.apps import AppConfig


def _say_signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Added before logout() flushes the session: the message travels in the messages cookie to the next page.
    if request is not None and user is not None:
        from django.contrib import messages

        # fail_silently: the test client's logout() and the admin's run without the messages middleware.
        messages.success(request, "You have signed out.", fail_silently=True)


class StaffConfig(AppConfig):
    name = "staff"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(_say_signed_out, dispatch_uid="staff.say_signed_out")
