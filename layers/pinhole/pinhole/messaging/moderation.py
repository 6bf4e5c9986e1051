"""A moderator removes a direct or group message for every participant, restorably, or restores it
(pinhole.moderation acts through here): the message is flagged, not deleted, and every participant's inbox entry
is put right in the same transaction — the preview moves off a removed message (onto a restored one that is the
latest again), an unread removed message stops counting and a restored one counts again. Open connections hear
it as an unsend (`message_deleted`) and, on restore, as the message arriving again (`message`)."""

from pinhole.messaging.dal import EntryFix, MessageRepository
from pinhole.messaging.logic import CHANGE_ATTEMPTS, SEPARATOR, _to_message, entry_fixes, is_group
from pinhole.messaging.models import InboxEntry, MessageDeletedFrame, MessageFrame, MessageRecord
from pinhole.realtime.push import Pusher
from pinhole.shared.errors import Conflict, NotApplicable
from pinhole.users.dal import ProfileRepository

_messages = MessageRepository()
_profiles = ProfileRepository()
_pusher = Pusher()


def _in_window(entry: InboxEntry, record: MessageRecord) -> bool:
    return (entry.visible_from is None or record.message_id >= entry.visible_from) and (
        entry.visible_until is None or record.message_id <= entry.visible_until
    )


def restore_fixes(record: MessageRecord, entries: list[InboxEntry]) -> list[EntryFix]:
    """How each participant's entry changes when `record` comes back: it is the preview again where it is newer
    than the one shown, and unread again for whoever had not read up to it (its sender never)."""
    fixes = []
    for entry in entries:
        if not _in_window(entry, record):
            continue
        newer = entry.last_message is None or entry.last_message.message_id < record.message_id
        unread = entry.user_id != record.sender_id and (
            entry.read_up_to is None or entry.read_up_to < record.message_id
        )
        if newer or unread:
            fixes.append(EntryFix(entry, record, newer, one_less_unread=False, one_more_unread=unread))
    return fixes


def _participants(record: MessageRecord, messages: MessageRepository) -> list[str]:
    """Everyone who has (or had, in a group they left) the message in their history."""
    if not is_group(record.conversation_id):
        return record.conversation_id.split(SEPARATOR)
    group = messages.group(record.conversation_id)
    return [*group.member_ids, *group.former_ids] if group else []


def set_message_removed(
    conversation_id: str,
    message_id: str,
    removed: bool,
    messages: MessageRepository = _messages,
    profiles: ProfileRepository = _profiles,
    pusher: Pusher = _pusher,
) -> MessageRecord:
    """Removes the message for every participant (`removed`) or restores it; the message. NotApplicable when it
    was unsent, or is already so."""
    for _ in range(CHANGE_ATTEMPTS):
        record = messages.get_message(conversation_id, message_id)
        if record is None:
            raise NotApplicable("The sender unsent the message.")
        if record.removed == removed:
            raise NotApplicable(f"The message is {'removed' if removed else 'shown'} already.")
        entries = messages.entries(conversation_id, _participants(record, messages))
        if not record.delivered:
            fixes: list[EntryFix] = []
        elif removed:
            fixes = entry_fixes(record, entries, messages)
        else:
            fixes = restore_fixes(record, entries)
        if messages.set_removed(record, removed, fixes):
            break
    else:
        raise Conflict("The conversation is changing too fast: try again in a moment.")
    after = record.model_copy(update={"removed": removed})
    readers = [entry.user_id for entry in entries if _in_window(entry, record)]
    if after.delivered and readers:
        _tell(after, readers, profiles, pusher)
    return after


def _tell(record: MessageRecord, readers: list[str], profiles: ProfileRepository, pusher: Pusher) -> None:
    if record.removed:
        pusher.push(readers, MessageDeletedFrame(conversation_id=record.conversation_id, message_id=record.message_id))
        return
    sender = profiles.get_many([record.sender_id]).get(record.sender_id)
    if sender is not None:
        pusher.push(readers, MessageFrame(message=_to_message(record, sender)))
