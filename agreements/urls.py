from django.urls import path

from agreements import views

app_name = "staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
