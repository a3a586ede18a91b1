from django.urls import path
from rest_framework.routers import SimpleRouter

from . import deadlines, views

router = SimpleRouter(trailing_slash=True)
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("obligations", views.ObligationViewSet, basename="obligation")
router.register("roles", views.RoleViewSet, basename="role")
router.register("jurisdictions", views.JurisdictionViewSet, basename="jurisdiction")
router.register("facts", views.FactViewSet, basename="fact")
router.register("events", views.EventTypeViewSet, basename="event-type")
router.register("phases", views.PhaseViewSet, basename="phase")
router.register("catalog/versions", views.CatalogVersionHistoryViewSet, basename="catalog-changelog")

urlpatterns = [
    path("deadlines/compute", deadlines.compute_deadline, name="deadline-compute"),
    path("catalog/schema/", views.catalog_schema, name="catalog-schema"),
    path("catalog/version/", views.catalog_version, name="catalog-version"),
    *router.urls,
]
