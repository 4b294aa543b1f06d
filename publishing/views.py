"""Public pages. They read stored editions only, never live agreements."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/home.html")
