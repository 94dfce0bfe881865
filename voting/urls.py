from django.urls import path

from voting import views

app_name = "voting"

urlpatterns = [
    path("questions/<id:pk>/", views.question_detail, name="question"),
    path("questions/<id:pk>/results/", views.results, name="results"),
]

# Live sessions (council meetings): voting/live_views.py
from voting import live_views  # noqa: E402

urlpatterns += live_views.urlpatterns
