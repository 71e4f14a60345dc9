from django.urls import path

from minyi.assist import views as assist_views
from minyi.web import kpi_views, privacy_views, views

app_name = "web"
urlpatterns = [
    # The citizen portal (no login).
    path("", views.home, name="home"),
    path("streets/", views.streets, name="streets"),
    path("deadline-preview", views.deadline_preview, name="deadline_preview"),
    path("assist/intake", assist_views.intake_suggestions, name="assist_intake"),
    path("submitted/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("track/<str:number>/", views.track_ticket, name="track_ticket"),
    path("track/<str:number>/rate", views.track_rate, name="track_rate"),
    path("track/<str:number>/files/<str:token>", views.track_file, name="track_file"),
    # The one-use rating link sent with a reply (minyi.feedback.links.rating_url).
    path("rate/<str:token>", views.rate_link, name="rate_link"),
    path("rate/<str:token>/files/<str:file_token>", views.rate_file, name="rate_file"),
    # The staff console.
    path("console/login", views.LoginView.as_view(), name="login"),
    path("console/logout", views.LogoutView.as_view(), name="logout"),
    path("console/", views.worklist, name="worklist"),
    path("console/notifications", views.notifications, name="notifications"),
    path("console/supervision", views.supervision, name="supervision"),
    path(
        "console/supervision/orders/<int:order_id>/<str:act>",
        views.order_action,
        name="order_action",
    ),
    path("console/reviews", views.reviews, name="reviews"),
    path("console/quality", views.quality, name="quality"),
    path(
        "console/quality/<int:screening_id>/<str:decision>",
        views.quality_decide,
        name="quality_decide",
    ),
    path("console/feedback", views.feedback_figures, name="feedback"),
    path("console/returns", views.returns, name="returns"),
    path("console/kpis", kpi_views.kpis, name="kpis"),
    path("console/privacy/reveals", privacy_views.reveal_audit, name="reveal_audit"),
    path("console/tickets/new", views.intake, name="intake"),
    path("console/tickets/created", views.intake_done, name="intake_done"),
    path("console/tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("console/tickets/<int:ticket_id>/supervise", views.supervise, name="supervise"),
    # Privacy (ADR 10): reveal a masked value with a reason; call through a virtual number.
    # Before the transitions' pattern, which would take these names as transitions.
    path("console/tickets/<int:ticket_id>/reveal", privacy_views.reveal, name="reveal"),
    path("console/tickets/<int:ticket_id>/call", privacy_views.call, name="call"),
    path("console/tickets/<int:ticket_id>/form/<str:transition>", views.ticket_action_form, name="ticket_action_form"),
    path(
        "console/tickets/<int:ticket_id>/<str:transition>",
        views.ticket_action,
        name="ticket_action",
    ),
    path("console/attachments/<str:token>", views.attachment, name="attachment"),
]
