from django.urls import path

from monitoring.views import alerts, pages, sessions

app_name = "monitoring"
urlpatterns = [
    path("", pages.index, name="index"),
    path("<id:pk>/", pages.connection_page, name="connection"),
    path("<id:pk>/settings/", pages.collector_settings, name="settings"),
    path("<id:pk>/queries/<id:fp>/", pages.query_page, name="query"),
    path("<id:pk>/queries/<id:fp>/explain/", pages.query_explain, name="query_explain"),
    path("<id:pk>/sessions/", sessions.sessions_page, name="sessions"),
    path("<id:pk>/sessions/action/", sessions.session_action, name="session_action"),
    path("<id:pk>/profiling/", sessions.profiling_action, name="profiling"),
    path("<id:pk>/alerts/", alerts.alerts_page, name="alerts"),
    path("<id:pk>/alerts/rule/", alerts.rule_save, name="rule_save"),
    path("<id:pk>/alerts/silence/", alerts.rule_silence, name="rule_silence"),
    path("<id:pk>/alerts/<id:event>/ack/", alerts.event_acknowledge, name="alert_ack"),
]
