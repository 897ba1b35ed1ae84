"""Outbound webhook calls over HTTP, with the destination guard (SSRF)."""

from valorize_adapters.webhooks.sender import DestinationGuard, HttpWebhookSender

__all__ = ["DestinationGuard", "HttpWebhookSender"]
