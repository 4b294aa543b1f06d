from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, str]:
    """The deployment's branding, for the page header and footer."""
    return {
        "portal_organisation_name": settings.PORTAL_ORGANISATION_NAME,
        "portal_service_name": settings.PORTAL_SERVICE_NAME,
    }
