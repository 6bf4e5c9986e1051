"""Notifications: likes, comments, follows, follow requests and @mentions, told to the user they
concern. Activity on the interactions, graph and posts tables' streams becomes intents on a FIFO
queue (`activity`, `intent_queue`); each intent is stored once, or taken back, and pushed live to the
recipient's open connections (`logic`); the stored ones are listed and marked read over HTTP."""
