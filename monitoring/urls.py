from django.urls import path

from monitoring.views import alerts, pages, sessions

app_name = "monitoring"
urlpatterns = [
    path("", pages.index, name="index"),
    path("<int:pk>/", pages.connection_page, name="connection"),
    path("<int:pk>/settings/", pages.collector_settings, name="settings"),
    path("<int:pk>/queries/<int:fp>/", pages.query_page, name="query"),
    path("<int:pk>/queries/<int:fp>/explain/", pages.query_explain, name="query_explain"),
    path("<int:pk>/sessions/", sessions.sessions_page, name="sessions"),
    path("<int:pk>/sessions/action/", sessions.session_action, name="session_action"),
    path("<int:pk>/profiling/", sessions.profiling_action, name="profiling"),
    path("<int:pk>/alerts/", alerts.alerts_page, name="alerts"),
    path("<int:pk>/alerts/rule/", alerts.rule_save, name="rule_save"),
    path("<int:pk>/alerts/silence/", alerts.rule_silence, name="rule_silence"),
    path("<int:pk>/alerts/<int:event>/ack/", alerts.event_acknowledge, name="alert_ack"),
]
