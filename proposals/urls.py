from django.urls import path

from proposals import views

app_name = "proposals"

urlpatterns = [
    path("<int:consultation_id>/", views.proposal_list, name="list"),
    path("<int:consultation_id>/new/", views.proposal_new, name="new"),
    path("<int:consultation_id>/new/<str:kind>/", views.proposal_create, name="create"),
    path("<int:consultation_id>/thread/", views.consultation_thread, name="thread"),
    path("p/<int:pk>/", views.proposal_detail, name="detail"),
    path("p/<int:pk>/support/", views.proposal_support, name="support"),
    path("p/<int:pk>/status/", views.proposal_status, name="status"),
    path("comment/<str:kind>/<int:pk>/", views.comment_create, name="comment_create"),
    path("comments/<int:pk>/reply/", views.comment_reply, name="comment_reply"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/remove/", views.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/history/", views.comment_history, name="comment_history"),
    path("report/<str:item_type>/<int:pk>/", views.flag_item, name="flag"),
    path("moderation/", views.moderation_queue, name="moderation_queue"),
    path("moderation/log/", views.moderation_log, name="moderation_log"),
    path("moderation/appeals/", views.appeal_list, name="appeal_list"),
    path("moderation/appeals/<int:pk>/", views.appeal_review, name="appeal_review"),
    path("moderation/statistics/", views.moderation_statistics, name="moderation_statistics"),
    path("moderation/<str:item_type>/<int:pk>/", views.moderation_item, name="moderation_item"),
    path("notices/", views.my_notices, name="my_notices"),
    path("notices/<int:action_id>/appeal/", views.appeal_create, name="appeal_create"),
]
