"""Conversations as pure state machines; never imports telegram."""
