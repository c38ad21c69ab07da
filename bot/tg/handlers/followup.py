"""Follow-through commands: /deadlines (the evaluation clock) and /mydata (what is kept).

Their buttons (Kind.DEADLINE, CHECKIN, MYDATA) are the parents' and go through
screening.button like every other parent button.
"""

from __future__ import annotations

from bot.parent.conversation import Chat, Conversation
from bot.tg.context import BotContext
from bot.tg.handlers.common import replies
from bot.views import Reply


@replies
def deadlines(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """The evaluation deadline and its reminders, to change or delete; or how to set one."""
    return conversation.deadlines_command(chat)


@replies
def mydata(conversation: Conversation, chat: Chat, _: BotContext) -> Reply:
    """Everything kept about this chat, each part with its own delete button."""
    return conversation.my_data(chat)
