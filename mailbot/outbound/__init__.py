"""Outbound: composing the bot's own messages, the persistent queue, and the senders."""
