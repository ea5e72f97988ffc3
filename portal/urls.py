"""The portal's pages (namespace ``portal``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("board/", views.board, name="board"),
    path("dept/<int:pk>/", views.department, name="department"),
    path("dept/<int:pk>/sign/", views.sign, name="sign"),
    path("dept/<int:pk>/form/", views.upload_form, name="upload_form"),
    path("dept/<int:pk>/rule/<str:rule_id>/", views.rule, name="rule"),
    path("dept/<int:pk>/rule/<str:rule_id>/explain/", views.explain, name="explain"),
    path("dept/<int:pk>/rule/<str:rule_id>/reveal/", views.reveal, name="reveal"),
    path("explanation/<int:pk>/decide/", views.decide, name="decide"),
    path("signoff/<int:pk>/", views.signoff, name="signoff"),
    path("signoff/<int:pk>/correction/", views.draft_correction, name="draft_correction"),
    path("correction/<int:pk>/", views.correction, name="correction"),
    path("correction/<int:pk>/sign/", views.sign_correction, name="sign_correction"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("audit/", views.audit_log, name="audit"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("search/", views.search, name="search"),
    path("assessment/", views.assessment_page, name="assessment"),
    path("trace/indicator/<str:name>/", views.trace_indicator_page, name="trace_indicator"),
]
