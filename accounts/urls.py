from django.urls import path

from accounts import oidc, views

app_name = "accounts"

urlpatterns = [
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("verify/recovery-code/", views.VerifyView.as_view(recovery=True), name="verify_recovery"),
    path("set-up/", views.SetupView.as_view(), name="setup"),
    path("recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery_codes"),
    # Pages under security/ need the second factor (SecondFactorRequiredMiddleware).
    path("security/", views.SecurityView.as_view(), name="security"),
    path("security/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views.auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html", extra_context={"page_title": "Check your e-mail"}
        ),
        name="password_reset_done",
    ),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password-reset/done/",
        views.auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html",
            extra_context={"page_title": "Your password has been changed"},
        ),
        name="password_reset_complete",
    ),
    path("invitation/<int:pk>/<str:key>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("sso/", oidc.AuthenticateView.as_view(), name="oidc_authenticate"),
    path("sso/callback/", oidc.CallbackView.as_view(), name="oidc_callback"),
]
