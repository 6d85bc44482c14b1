"""The bridge as a service: scheduled work, webhooks in, metrics and health, alerts.

Everything here is mounted into `bridge serve`'s web application; none of it serves pages.
"""
