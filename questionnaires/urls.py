from django.urls import path

from questionnaires import staff_views, views

app_name = "questionnaires"

urlpatterns = [
    path("<int:pk>/", views.start, name="start"),
    path("<int:pk>/page/<int:number>/", views.page, name="page"),
    path("<int:pk>/check-your-answers/", views.check, name="check"),
    path("<int:pk>/saved/", views.saved, name="saved"),
    path("<int:pk>/response-sent/", views.done, name="done"),
    path("resume/<str:token>/", views.resume, name="resume"),
    path("<int:pk>/enter-a-response/", staff_views.enter, name="enter"),
    path("<int:pk>/responses/", staff_views.responses, name="responses"),
    path("<int:pk>/results/", staff_views.results, name="results"),
    path("<int:pk>/responses/<str:reference>/", staff_views.response_detail, name="response"),
    path("<int:pk>/responses.csv", staff_views.export_csv, name="export_csv"),
    path("<int:pk>/codebook.csv", staff_views.codebook_csv, name="codebook_csv"),
]
