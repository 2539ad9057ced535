"""Checks of the settings against what they point at: Telegram, the database, the form file.

`vizteh-bot check` prints them all; every start of the bot runs them and stops with one
line per problem instead of a traceback.
"""
