"""Where manager messages go: MANAGER_CHAT_ID, or the supergroup Telegram moved it to."""

from __future__ import annotations


class ManagerChat:
    def __init__(self, configured_id: int) -> None:
        self.configured_id = configured_id
        self.current_id = configured_id
        self._ids = {configured_id}

    def moved_to(self, new_id: int) -> None:
        self.current_id = new_id
        self._ids.add(new_id)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._ids
