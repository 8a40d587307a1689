"""Plain library code the apps share: no models, no app imports, nothing about referrals or rosters.

What lives here could be published on its own (as healthchecks keeps ``hc/lib``): it may use
Django's utilities (gettext, ``FileResponse``, ``timezone``) and third-party packages, never
``townships``, ``referrals``, ``mediation``, ``notifications``, ``accounts`` or ``core``.
"""
