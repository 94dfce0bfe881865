from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts import services
from accounts.forms import (
    GovukPasswordResetForm,
    GovukSetPasswordForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResendVerificationForm,
)


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@ratelimit(key="ip", rate="20/h", method="POST", block=True)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same answer whether or not the address has an account (its owner is emailed instead).
        services.registration_submit(
            email=form.cleaned_data["email"],
            display_name=form.cleaned_data["display_name"],
            postcode=form.cleaned_data["postcode"],
            password=form.cleaned_data["password"],
            base_url=_base_url(request),
        )
        request.session["registered_email"] = form.cleaned_data["email"]
        return redirect("accounts:check_email")
    status = 400 if form.errors else 200
    return render(request, "accounts/register.html", {"form": form}, status=status)


def check_email(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/check_email.html", {"email": request.session.get("registered_email")})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.user_verify_email(token=token)
    except services.VerificationError as exc:
        return render(
            request,
            "accounts/verify_failed.html",
            {"code": exc.code, "message": exc.message, "form": ResendVerificationForm()},
            status=400,
        )
    messages.success(request, _("Your email address is confirmed. You can now sign in."))
    return redirect("accounts:login")


@ratelimit(key="ip", rate="10/h", method="POST", block=True)
@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.verification_resend(email=form.cleaned_data["email"], base_url=_base_url(request))
        request.session["registered_email"] = form.cleaned_data["email"]
        return redirect("accounts:check_email")
    return render(request, "accounts/resend.html", {"form": form}, status=400 if form.errors else 200)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only) and show "You have signed out", unless a safe ``next`` says where to go.

    Django's view redirects to the sign-out URL itself when ``next`` is missing or refused (another
    site's address), and that URL answers GET with 405. Here both render the signed-out page.
    """

    template_name = "accounts/logged_out.html"

    def get_default_redirect_url(self) -> str:
        # The request's own URL makes Django's view render the template instead of redirecting.
        return self.request.get_full_path()


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"display_name": user.display_name, "postcode": user.postcode}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            user=user, display_name=form.cleaned_data["display_name"], postcode=form.cleaned_data["postcode"]
        )
        messages.success(request, _("Your details are saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form}, status=400 if form.errors else 200)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = GovukPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = GovukSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
