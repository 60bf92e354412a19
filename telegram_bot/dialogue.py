"""What the bot answers: binding (/start <code>, /stop) and the day's report, KPI by KPI.

The report in the chat is the web form's: the KPIs, plan and what is left come from
`reports.selectors.report_form`; each answer is read by `reports.services.parse_figures`
(the parser, bounds and messages of the form); the report is filed by
`reports.services.report_submit`, whose "far above usual" questions (`NeedsConfirmation`)
are asked with Да/Нет buttons. Nothing here restates those rules. Where the chat is in the
report lives in its `Conversation` row, so a restarted worker carries on.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Company, User
from kpi.values import format_date, format_plan, format_value, input_value
from reports import selectors as report_selectors
from reports import services as report_services
from reports.models import ReportValue
from reports.selectors import FormRow
from telegram_bot import api, services
from telegram_bot.models import Conversation

logger = logging.getLogger(__name__)

SUMMARY, CONFIRM = "=summary", "=confirm"  # steps that are no KPI code (a code is a slug)


@dataclass
class Chat:
    """One update's conversation partner: where the answers go."""

    company: Company
    token: str
    chat_id: str

    def say(self, text: str, keyboard: api.Keyboard | None = None) -> None:
        api.send_message(token=self.token, chat_id=self.chat_id, text=text, keyboard=keyboard)


def handle(*, company: Company, payload: dict) -> None:
    token = company.telegram_token()
    if not token:
        return  # the bot was removed since the update came
    update = api.parse_update(payload, token=token)
    with translation.override(settings.LANGUAGE_CODE):
        if update.callback_query is not None:
            _on_button(company, token, update.callback_query)
        elif update.message is not None and update.message.chat.type == "private":
            chat = Chat(company, token, str(update.message.chat.id))
            _on_message(chat, (update.message.text or "").strip())


def _bound_user(chat: Chat) -> User | None:
    return (
        User.objects.filter(company=chat.company, telegram_chat_id=chat.chat_id, is_active=True)
        .select_related("company")
        .first()
    )


def _on_message(chat: Chat, text: str) -> None:
    command, _space, argument = text.partition(" ")
    command = command.split("@")[0].lower()  # "/start@SomeBot" in a chat with several bots
    if command == "/start" and argument.strip():
        _bind(chat, argument.strip())
        return
    user = _bound_user(chat)
    if user is None:
        chat.say(
            _(
                "Этот чат не привязан к Salesdesk. Откройте «Профиль» в Salesdesk и нажмите "
                "ссылку или отсканируйте QR-код."
            )
        )
        return
    conversation = Conversation.objects.filter(company=chat.company, chat_id=chat.chat_id).first()
    if command == "/stop":
        services.chat_unbind(company=chat.company, user=user)
        chat.say(_("Чат отвязан: сюда больше ничего не придёт. Привязать снова — в «Профиле»."))
    elif command == "/report":
        report_start(chat, user)
    elif command == "/cancel" and conversation is not None:
        conversation.delete()
        chat.say(_("Отчёт отложен: набранное сохранено в черновике на сайте."))
    elif conversation is not None and conversation.step not in ("", SUMMARY, CONFIRM):
        if command == "/skip":
            conversation.skipped = sorted({*conversation.skipped, conversation.step})
            conversation.values.pop(conversation.step, None)
            _next(chat, user, conversation)
        else:
            _answer(chat, user, conversation, text)
    else:
        chat.say(_help())


def _help() -> str:
    return _(
        "/report — сдать отчёт за сегодня\n/skip — пропустить показатель\n"
        "/cancel — отложить отчёт\n/stop — отвязать чат"
    )


def _bind(chat: Chat, code: str) -> None:
    user = services.chat_bind(company=chat.company, code=code, chat_id=chat.chat_id)
    if user is None:
        chat.say(
            _(
                "Ссылка устарела или уже использована. Откройте «Профиль» в Salesdesk: там "
                "новая ссылка."
            )
        )
        return
    chat.say(
        _("Готово, %(name)s: чат привязан к Salesdesk компании «%(company)s».\n\n%(help)s")
        % {"name": user.first_name or user.username, "company": chat.company.name, "help": _help()}
    )


# --- The day's report ---------------------------------------------------------------------


def _form(user: User, conversation: Conversation) -> report_selectors.ReportForm:
    return report_selectors.report_form(company=user.company, manager=user, day=conversation.day)


def _typed_rows(form: report_selectors.ReportForm) -> list[FormRow]:
    return [row for row in form.rows if not row.computed]


def day_overview(*, form: report_selectors.ReportForm) -> str:
    """Today's KPIs with the plan and what is left, as the form shows them."""
    lines = [
        _("Ваши показатели на %(day)s:") % {"day": format_date(form.day, year=False)},
    ]
    for row in form.rows:
        parts = []
        if row.day_plan is not None:
            parts.append(_("план на день %(plan)s") % {"plan": format_plan(row.day_plan, row.kpi)})
        if row.left_today is not None:
            parts.append(_("осталось %(left)s") % {"left": format_value(row.left_today, row.kpi)})
        if row.mtd_actual is not None:
            parts.append(
                _("за месяц %(actual)s из %(plan)s")
                % {
                    "actual": format_value(row.mtd_actual, row.kpi),
                    "plan": format_plan(row.mtd_plan, row.kpi),
                }
            )
        lines.append(f"— {row.kpi.name}: " + (", ".join(parts) or "—"))
    return "\n".join(lines)


def report_start(chat: Chat, user: User) -> None:
    if not permissions.may_report(user):
        chat.say(_("Отчёт за день сдаёт менеджер с ролью в продажах."))
        return
    company = user.company
    day = company.today()
    form = report_selectors.report_form(company=company, manager=user, day=day)
    if form.report is not None:
        chat.say(
            _("Отчёт за %(day)s уже сдан. Исправить его можно на сайте: %(url)s")
            % {"day": format_date(day, year=False), "url": _site_url(f"/report/{day.isoformat()}/")}
        )
        return
    if not _typed_rows(form):
        chat.say(_("У вашей роли нет KPI на этот день: обратитесь к администратору."))
        return
    conversation, _created = Conversation.objects.update_or_create(
        company=company,
        chat_id=chat.chat_id,
        defaults={
            "user": user, "day": day, "step": "", "values": {}, "skipped": [],
            "questions": {}, "correcting": False, "version": form.version,
        },
    )  # fmt: skip
    chat.say(day_overview(form=form))
    _next(chat, user, conversation, form=form)


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _next(
    chat: Chat,
    user: User,
    conversation: Conversation,
    *,
    form: report_selectors.ReportForm | None = None,
) -> None:
    """Asks the next KPI without an answer, or shows the summary."""
    form = form or _form(user, conversation)
    rows = _typed_rows(form)
    waiting = [
        row
        for row in rows
        if row.kpi.code not in conversation.values and row.kpi.code not in conversation.skipped
    ]
    if conversation.correcting or not waiting:
        conversation.correcting = False
        _summary(chat, conversation, rows)
        return
    _ask(chat, conversation, waiting[0])


def _ask(chat: Chat, conversation: Conversation, row: FormRow) -> None:
    conversation.step = row.kpi.code
    conversation.save()
    kpi = row.kpi
    lines = [f"«{kpi.name}» ({kpi.get_unit_display()})"]
    if row.day_plan is not None:
        lines.append(_("План на сегодня: %(plan)s.") % {"plan": format_plan(row.day_plan, kpi)})
    typed = conversation.values.get(kpi.code)
    if typed:
        lines.append(_("Сейчас: %(value)s.") % {"value": typed})
    keyboard = None
    if row.imported is not None:
        source = dict(ReportValue.Source.choices).get(row.imported_source, row.imported_source)
        shown = format_value(row.imported, kpi)
        lines.append(_("По данным «%(source)s»: %(value)s.") % {"source": source, "value": shown})
        keyboard = [[(_("Подтвердить %(value)s") % {"value": shown}, f"take:{kpi.code}")]]
    lines.append(_("Введите значение или /skip."))
    chat.say("\n".join(lines), keyboard)


def _answer(chat: Chat, user: User, conversation: Conversation, text: str) -> None:
    form = _form(user, conversation)
    row = next((r for r in _typed_rows(form) if r.kpi.code == conversation.step), None)
    if row is None:  # the role's KPIs changed under the conversation
        report_start(chat, user)
        return
    try:
        report_services.parse_figures([row.kpi], {row.kpi.code: text})
    except ValidationError as error:
        chat.say(error.message_dict[row.kpi.code][0] + "\n" + _("Введите значение ещё раз."))
        return
    _store(conversation, user, row.kpi.code, text)
    _next(chat, user, conversation, form=form)


def _store(conversation: Conversation, user: User, code: str, text: str) -> None:
    conversation.values[code] = text
    conversation.skipped = [c for c in conversation.skipped if c != code]
    conversation.save()
    # The web form opens with what was typed here (its draft), and the other way round.
    report_services.draft_save(
        company=user.company, manager=user, day=conversation.day, data=conversation.values
    )


def _shown(row: FormRow, text: str | None) -> str:
    if not text:
        return _("— (пропущено)")
    try:
        value = report_services.parse_figures([row.kpi], {row.kpi.code: text})[row.kpi.code]
    except ValidationError:
        return text
    return format_value(value, row.kpi)


def _summary(chat: Chat, conversation: Conversation, rows: list[FormRow]) -> None:
    conversation.step = SUMMARY
    conversation.save()
    lines = [_("Проверьте отчёт за %(day)s:") % {"day": format_date(conversation.day, year=False)}]
    lines += [
        f"— {row.kpi.name}: {_shown(row, conversation.values.get(row.kpi.code))}" for row in rows
    ]
    chat.say("\n".join(lines), [[(_("Отправить"), "send"), (_("Исправить"), "fix")]])


def _submit(chat: Chat, user: User, conversation: Conversation, *, confirmed: bool) -> None:
    try:
        submission = report_services.report_submit(
            company=user.company,
            manager=user,
            day=conversation.day,
            values=conversation.values,
            actor=user,
            version=conversation.version,
            confirmed=confirmed,
        )
    except report_services.NeedsConfirmation as question:
        conversation.questions = question.questions
        conversation.step = CONFIRM
        conversation.save()
        kpis = {row.kpi.code: row.kpi for row in _form(user, conversation).rows}
        lines = [
            f"«{kpis[code].name}»: {text}" if code in kpis else text
            for code, text in question.questions.items()
        ]
        chat.say("\n".join(lines), [[(_("Да"), "yes"), (_("Нет"), "no")]])
        return
    except report_services.ReportConflict as conflict:
        conversation.delete()
        chat.say(conflict.message)
        return
    except PermissionDenied as refusal:
        conversation.delete()
        chat.say(str(refusal) or _("Отчёт отсюда не сдать."))
        return
    except ValidationError as error:
        _refused(chat, user, conversation, error)
        return
    conversation.delete()
    chat.say(
        _("Отчёт за %(day)s отправлен. Спасибо!")
        % {"day": format_date(submission.report.date, year=False)}
    )


def _refused(chat: Chat, user: User, conversation: Conversation, error: ValidationError) -> None:
    """The service's refusal, in its words; a KPI it names is asked again."""
    form = _form(user, conversation)
    rows = {row.kpi.code: row for row in _typed_rows(form)}
    if hasattr(error, "error_dict"):
        messages = [m for field in error.message_dict.values() for m in field]
        named = [code for code in error.message_dict if code in rows]
    else:
        messages, named = error.messages, []
    chat.say("\n".join(messages))
    if named:
        conversation.correcting = False
        conversation.skipped = [c for c in conversation.skipped if c not in named]
        for code in named:
            conversation.values.pop(code, None)
        _ask(chat, conversation, rows[named[0]])
    else:
        conversation.delete()


def _on_button(company: Company, token: str, query: object) -> None:
    chat_id = str(query.message.chat.id) if query.message else str(query.from_user.id)
    chat = Chat(company, token, chat_id)
    data = query.data or ""
    api.answer_callback_query(token=token, callback_query_id=query.id)
    user = _bound_user(chat)
    conversation = Conversation.objects.filter(company=company, chat_id=chat_id).first()
    if user is None:
        chat.say(_("Этот чат не привязан к Salesdesk."))
        return
    if data == "report":
        report_start(chat, user)
        return
    action, _colon, code = data.partition(":")
    step = conversation.step if conversation else None
    current = (
        (action == "take" and step == code)
        or (action in ("send", "fix") and step == SUMMARY)
        or (action == "redo" and step == SUMMARY)
        or (action in ("yes", "no") and step == CONFIRM)
    )
    if not current or conversation is None or conversation.user_id != user.pk:
        chat.say(_("Этот вопрос уже закрыт. /report — начать отчёт заново."))
        return
    # The pressed message keeps its text and loses its buttons: they did their work.
    if query.message is not None:
        api.edit_message_text(
            token=token,
            chat_id=chat_id,
            message_id=query.message.message_id,
            text=(query.message.text or "") + "\n\n✓ " + _button_label(data),
        )
    if action == "take":
        form = _form(user, conversation)
        row = next((r for r in _typed_rows(form) if r.kpi.code == code), None)
        if row is None or row.imported is None:
            _next(chat, user, conversation, form=form)
            return
        _store(conversation, user, code, input_value(row.imported, row.kpi))
        _next(chat, user, conversation, form=form)
    elif action == "send":
        _submit(chat, user, conversation, confirmed=False)
    elif action == "yes":
        _submit(chat, user, conversation, confirmed=True)
    elif action == "fix":
        rows = _typed_rows(_form(user, conversation))
        keyboard = [[(row.kpi.name, f"redo:{row.kpi.code}")] for row in rows]
        chat.say(_("Какой показатель исправить?"), keyboard)
    elif action == "redo":
        row = next((r for r in _typed_rows(_form(user, conversation)) if r.kpi.code == code), None)
        if row is not None:
            conversation.correcting = True
            _ask(chat, conversation, row)
    elif action == "no":
        codes = list(conversation.questions)
        rows = {r.kpi.code: r for r in _typed_rows(_form(user, conversation))}
        conversation.questions = {}
        for code_asked in codes:
            conversation.values.pop(code_asked, None)
        conversation.correcting = False
        first = next((rows[c] for c in codes if c in rows), None)
        if first is None:
            _next(chat, user, conversation)
        else:
            _ask(chat, conversation, first)


def _button_label(data: str) -> str:
    action = data.partition(":")[0]
    labels = {
        "take": _("Подтверждено"), "send": _("Отправить"), "fix": _("Исправить"),
        "yes": _("Да"), "no": _("Нет"), "redo": _("Исправить"),
    }  # fmt: skip
    return labels.get(action, "")
