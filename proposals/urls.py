from django.urls import path

from proposals import views

app_name = "proposals"

urlpatterns = [
    path("<id:consultation_id>/", views.proposal_list, name="list"),
    path("<id:consultation_id>/new/", views.proposal_new, name="new"),
    path("<id:consultation_id>/new/<str:kind>/", views.proposal_create, name="create"),
    path("<id:consultation_id>/thread/", views.consultation_thread, name="thread"),
    path("p/<id:pk>/", views.proposal_detail, name="detail"),
    path("p/<id:pk>/support/", views.proposal_support, name="support"),
    path("p/<id:pk>/status/", views.proposal_status, name="status"),
    path("comment/<str:kind>/<id:pk>/", views.comment_create, name="comment_create"),
    path("comments/<id:pk>/reply/", views.comment_reply, name="comment_reply"),
    path("comments/<id:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<id:pk>/remove/", views.comment_delete, name="comment_delete"),
    path("comments/<id:pk>/history/", views.comment_history, name="comment_history"),
    path("report/<str:item_type>/<id:pk>/", views.flag_item, name="flag"),
    path("moderation/", views.moderation_queue, name="moderation_queue"),
    path("moderation/log/", views.moderation_log, name="moderation_log"),
    path("moderation/appeals/", views.appeal_list, name="appeal_list"),
    path("moderation/appeals/<id:pk>/", views.appeal_review, name="appeal_review"),
    path("moderation/statistics/", views.moderation_statistics, name="moderation_statistics"),
    path("moderation/<str:item_type>/<id:pk>/", views.moderation_item, name="moderation_item"),
    path("notices/", views.my_notices, name="my_notices"),
    path("notices/<id:action_id>/appeal/", views.appeal_create, name="appeal_create"),
]
