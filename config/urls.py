from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views as config_views
from dashboard import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch works on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # At the root, so that the service worker may serve every page (config/views.py).
    path("sw.js", login_not_required(config_views.service_worker), name="service_worker"),
    path("referrals/", include("referrals.urls")),
    path("referrals/", include("mediation.urls")),
    path("referrals/", include("messaging.urls")),
    path("notifications/", include("notifications.urls")),
    # The parties' own pages (personal links): the only path a public gateway passes.
    path("p/", include("portal.urls")),
    path("account/", include("accounts.urls")),
    path("rosters/", include("townships.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.api_urls")),
    path("api/", include("referrals.api_urls")),
    path("api/", include("mediation.api_urls")),
    path("api/", include("messaging.api_urls")),
    path("api/", include("notifications.api_urls")),
    path("api/", include("townships.api_urls")),
    path("api/", include("referrals.export_urls")),
    path("api/", include("referrals.stats_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file, so the docs page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
