"""The conversation in Telegram terms: what a message carries, and how a relay is wrapped."""
