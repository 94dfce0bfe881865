from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("settings/", views.mail_settings, name="settings"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
