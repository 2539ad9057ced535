"""Helpers the tests share: the fake Bot API, people who drive the bot, the bot process."""
