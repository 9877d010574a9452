"""Delivery of signed JSON messages to subscribers' URLs (Standard Webhooks), retried with backoff until
acknowledged, from state kept in the database (ADR 0013). Producers (the change journal today) make the messages."""
