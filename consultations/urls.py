from django.urls import path

from consultations import views

app_name = "consultations"

urlpatterns = [
    path("<id:page_id>/ask-for-a-wider-say/", views.escalation_request, name="escalate"),
]
