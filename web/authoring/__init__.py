"""Authoring the catalog in the app: drafts per user, checks, previews, published versions,
restores, the audit trail and the learning library's usage."""
