"""Referral router: finding, routing, consent, outbox, delivery, decisions flowing back."""
