"""Site-wide middleware."""

from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware


class LoginRequiredExceptApiMiddleware(LoginRequiredMiddleware):
    """Pages need a login; the API authenticates for itself.

    API clients may use a token, which this middleware cannot see (DRF authenticates inside the
    view), and an anonymous API call must answer 401 JSON, not a redirect to the login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class DomainErrorMiddleware:
    """Turn a domain refusal raised in a page view into its status (403, 409, 400) and its message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from core.errors import DomainError

        if not isinstance(exception, DomainError) or request.path_info.startswith("/api/"):
            return None
        return render(
            request, "error.html", {"status": exception.status, "message": exception.message}, status=exception.status
        )


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy: scripts and everything else only from this server.

    No inline script is allowed (every page script is a static file), so an injected <script> does
    not run. Inline style attributes are tolerated: they cannot execute anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            host = request.get_host()
            response["Content-Security-Policy"] = "; ".join(
                [
                    "default-src 'self'",
                    "script-src 'self'",
                    "style-src 'self' 'unsafe-inline'",
                    "img-src 'self' data:",
                    "font-src 'self'",
                    f"connect-src 'self' ws://{host} wss://{host}",
                    "object-src 'none'",
                    "base-uri 'self'",
                    "form-action 'self'",
                    "frame-ancestors 'none'",
                ]
            )
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
