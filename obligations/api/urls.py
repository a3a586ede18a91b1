from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import applicability, checklist, endpoints, views

router = SimpleRouter()
router.register("organizations", views.OrganizationsViewSet, basename="organization")
router.register("tokens", views.ApiTokenViewSet, basename="token")

# Everything under organizations/<id>/ goes through OrganizationScopedMixin.
scoped = SimpleRouter()
scoped.register("members", views.MemberViewSet, basename="member")
scoped.register("invitations", views.InvitationViewSet, basename="invitation")
scoped.register("profile/versions", views.ProfileVersionViewSet, basename="profile-version")
scoped.register("events", views.EventViewSet, basename="organization-event")
scoped.register("checklist", checklist.ChecklistViewSet, basename="checklist-item")
scoped.register("changes", checklist.ChecklistChangeViewSet, basename="checklist-change")
scoped.register("evidence", checklist.EvidenceViewSet, basename="evidence")
scoped.register("downloads", checklist.DownloadViewSet, basename="download")
scoped.register("calendar-feeds", views.CalendarFeedViewSet, basename="calendar-feed-config")
scoped.register("reminders", views.ReminderViewSet, basename="reminder")
scoped.register("audit", views.AuditEventViewSet, basename="audit-event")
scoped.register("endpoints", endpoints.EndpointViewSet, basename="endpoint")

organization_urls = [
    path("", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("applicability/", views.OrganizationApplicabilityView.as_view(), name="organization-applicability"),
    path("questions/", views.QuestionsView.as_view(), name="questions"),
    path("audit-pack/", views.AuditPackView.as_view(), name="audit-pack"),
    path("preferences/", views.ReminderPreferencesView.as_view(), name="reminder-preferences"),
    path("reminder-policy/", views.ReminderPolicyView.as_view(), name="reminder-policy"),
    *scoped.urls,
]

urlpatterns = [
    path("me/", views.me, name="me"),
    path("applicability/", applicability.applicability_preview, name="applicability"),
    path("invitations/accept/", views.invitation_accept, name="invitation-accept"),
    path("organizations/<id:organization_id>/", include(organization_urls)),
    *router.urls,
]
