"""Tables only: every state change lives in ``parley.actions``."""

from . import search_index as _search_index  # noqa: F401  (registers the FTS DDL)
from .avatar import Avatar
from .message import Message, ReactionGroup
from .reaction import MessageEdit, MessageMention, Reaction
from .recovery_code import RecoveryCode
from .role import DEFAULT_ROLES, Permission, Role, insert_roles
from .room import Membership, Room, RoomKind, RoomRole
from .thread import ThreadFollow
from .token import ApiToken
from .user import User

__all__ = [
    "DEFAULT_ROLES",
    "ApiToken",
    "Avatar",
    "Membership",
    "Message",
    "MessageEdit",
    "MessageMention",
    "Permission",
    "Reaction",
    "ReactionGroup",
    "RecoveryCode",
    "Role",
    "Room",
    "RoomKind",
    "RoomRole",
    "ThreadFollow",
    "User",
    "insert_roles",
]
