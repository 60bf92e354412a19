"""Importing deals and calls from a CSV or Excel file: reading, column mapping, checks, writing.

A file goes through three steps: `import_job_create` reads and keeps it, `mapping_save`
records which column holds which field (guessed from the headers first), `import_start`
runs it, inline for a small file and on the worker otherwise (`import_run`, in chunks).

Rows are written by `deal_upsert` / `call_upsert` with source "file", keyed by the file's id
column, so the same file twice adds nothing and a changed row updates its record. A file
without an id column gets a key derived from the row itself (a hash of its mapped values):
importing it again still adds nothing, but a changed row then becomes a new record, since
nothing else says that it is the same one.

Row numbers are the file's own (the header is row 1), as the user sees them in Excel.
"""

import contextlib
import csv
import datetime
import hashlib
import io
import logging
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import openpyxl
import xlrd
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import tenancy
from accounts.models import Company, User
from crm_sync.models import ImportJob, PipelineStage, Source
from crm_sync.services import (
    CallData,
    DealData,
    Outcome,
    call_upsert,
    client_resolve,
    deal_upsert,
    figures_deferred,
    normalize_phone,
)
from kpi.models import KPI
from kpi.values import (
    MAX_CALL_SECONDS,
    ceiling_check,
    echo,
    format_date,
    format_datetime,
    parse_number,
    value_check,
)
from payments import onec
from payments import services as payments
from payments.models import Source as PaymentSource

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
EXTENSIONS = (".csv", ".xlsx", ".xls")
# Up to this many rows the import runs inside the request; a bigger file goes to the worker.
INLINE_ROWS = 200
# Rows written per transaction; progress moves (and a crash rolls back) a chunk at a time.
CHUNK_ROWS = 50
PREVIEW_ROWS = 10
# A file of garbage must not grow the job's error list without bound.
MAX_ERRORS = 1000

Cell = str | int | float | Decimal | bool | datetime.datetime | datetime.date | datetime.time | None


# --- Reading the file ---------------------------------------------------------------------


@dataclass
class Row:
    number: int
    cells: list[Cell]


@dataclass
class Table:
    headers: list[str]
    rows: list[Row]


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return " ".join(str(value).split())


def _csv_rows(content: bytes) -> list[list[Cell]]:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # cp1251 decodes nearly anything; this is for the few bytes it leaves undefined
        raise ValidationError(_("Не удалось прочитать файл: сохраните CSV в кодировке UTF-8."))
    if "\x00" in text:
        raise ValidationError(_("Это не похоже на CSV-файл: сохраните таблицу как CSV или XLSX."))
    sample = text[:20_000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        delimiter = max(";,\t", key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ValidationError(
            _("Не удалось прочитать CSV: %(reason)s.") % {"reason": error}
        ) from error


def _xlsx_rows(content: bytes) -> list[list[Cell]]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises whatever its zip and XML readers do
        raise ValidationError(
            _("Не удалось прочитать файл Excel: он повреждён или это не XLSX.")
        ) from error
    try:
        sheet = book.worksheets[0]
        return [list(values) for values in sheet.iter_rows(values_only=True)]
    except Exception as error:
        raise ValidationError(_("Не удалось прочитать первый лист файла Excel.")) from error
    finally:
        book.close()


def _xls_rows(content: bytes) -> list[list[Cell]]:
    """Excel 97–2003, which 1C saves by default: dates are numbers there, read as dates."""
    try:
        book = xlrd.open_workbook(file_contents=content)
        sheet = book.sheet_by_index(0)
    except Exception as error:  # xlrd raises whatever its OLE2 and BIFF readers do
        raise ValidationError(
            _("Не удалось прочитать файл Excel: он повреждён или это не XLS.")
        ) from error
    rows = []
    for index in range(sheet.nrows):
        cells: list[Cell] = []
        for cell in sheet.row(index):
            if cell.ctype == xlrd.XL_CELL_DATE:
                cells.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                cells.append(None)
            else:
                cells.append(cell.value)
        rows.append(cells)
    return rows


def table_read(*, file_name: str, content: bytes, kind: str = "") -> Table:
    """The header row (the first one that is not empty; for 1C's reports, the one below
    their title, `payments.onec`) and the data rows below it."""
    extension = PurePath(file_name).suffix.lower()
    if extension not in EXTENSIONS:
        raise ValidationError(
            _("Файлы «%(ext)s» не поддерживаются: загрузите CSV или Excel (XLSX, XLS).")
            % {"ext": extension or file_name}
        )
    readers = {".csv": _csv_rows, ".xlsx": _xlsx_rows, ".xls": _xls_rows}
    raw = readers[extension](content)
    numbered = [(number, cells) for number, cells in enumerate(raw, start=1)]
    numbered = [(n, cells) for n, cells in numbered if not all(_blank(c) for c in cells)]
    if not numbered:
        raise ValidationError(_("Файл пуст: в нём нет ни заголовков, ни строк."))
    (_header_number, header), *data = numbered
    report = None
    if kind in ONEC_KINDS:
        aliases = {alias for f in FIELDS[kind] for alias in f.aliases}
        report = onec.report_table(kind=kind, rows=raw, aliases=aliases)
    if report is not None:
        _header_number, header, data = report
    width = len(header)
    while width and _blank(header[width - 1]):
        width -= 1
    headers = [
        _text(title) or _("Колонка %(n)s") % {"n": index + 1}
        for index, title in enumerate(header[:width])
    ]
    if not data:
        raise ValidationError(_("В файле есть заголовки, но нет ни одной строки с данными."))
    if len(data) > MAX_ROWS:
        raise ValidationError(
            _("В файле %(count)s строк, а за один раз можно загрузить не больше %(max)s.")
            % {"count": len(data), "max": MAX_ROWS}
        )
    rows = [Row(n, (list(cells) + [None] * width)[:width]) for n, cells in data]
    return Table(headers=headers, rows=rows)


# --- Fields and the mapping of columns to them ------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: Promise
    # Header names this field is recognised by, lower case, "ё" written as "е".
    aliases: tuple[str, ...]
    required: bool = False
    max_length: int | None = None


_ID = ("id", "ид", "№", "номер", "код", "external id", "внешний id")
_MANAGER = ("менеджер", "ответственный", "сотрудник", "manager", "responsible", "owner", "user")

DEAL_FIELDS = (
    Field("external_id", gettext_lazy("Номер сделки"),
          (*_ID, "id сделки", "номер сделки", "deal id"), max_length=64),
    Field("title", gettext_lazy("Название"),
          ("название", "сделка", "название сделки", "наименование", "title", "name", "deal"),
          max_length=255),
    Field("manager", gettext_lazy("Менеджер"), _MANAGER),
    Field("client_name", gettext_lazy("Клиент"),
          ("клиент", "компания", "контакт", "покупатель", "client", "customer", "company",
           "contact"), max_length=200),
    Field("client_phone", gettext_lazy("Телефон клиента"),
          ("телефон", "телефон клиента", "тел", "phone", "client phone")),
    Field("channel", gettext_lazy("Канал"),
          ("канал", "канал привлечения", "источник", "channel", "source", "utm source"),
          max_length=100),
    Field("amount", gettext_lazy("Сумма"),
          ("сумма", "бюджет", "сумма сделки", "amount", "sum", "budget", "price", "value")),
    Field("stage", gettext_lazy("Этап"),
          ("этап", "стадия", "статус", "этап воронки", "stage", "status"), required=True),
    Field("created_at", gettext_lazy("Дата создания"),
          ("дата создания", "создана", "дата", "created", "created at", "date"), required=True),
    Field("closed_at", gettext_lazy("Дата закрытия"),
          ("дата закрытия", "закрыта", "closed", "closed at", "close date")),
    Field("loss_reason", gettext_lazy("Причина отказа"),
          ("причина отказа", "причина проигрыша", "причина", "loss reason", "lost reason"),
          max_length=255),
    Field("is_repeat", gettext_lazy("Повторная продажа"),
          ("повторная", "повторная продажа", "повторная сделка", "repeat", "is repeat")),
    Field("expected_payment_on", gettext_lazy("Ожидаемая оплата"),
          ("ожидаемая оплата", "дата оплаты", "оплата", "expected payment", "payment date")),
)  # fmt: skip

CALL_FIELDS = (
    Field("external_id", gettext_lazy("Номер звонка"),
          (*_ID, "id звонка", "номер звонка", "call id"), max_length=64),
    Field("manager", gettext_lazy("Менеджер"), (*_MANAGER, "оператор", "agent")),
    Field("direction", gettext_lazy("Направление"),
          ("направление", "тип", "тип звонка", "direction", "type"), required=True),
    Field("started_at", gettext_lazy("Начало звонка"),
          ("дата", "начало", "время", "дата и время", "дата звонка", "начало звонка",
           "started", "start", "started at", "date", "time", "datetime"), required=True),
    Field("duration", gettext_lazy("Длительность"),
          ("длительность", "продолжительность", "длительность с", "длительность сек",
           "duration", "talk time", "billsec")),
    Field("answered", gettext_lazy("Состоялся"),
          ("состоялся", "отвечен", "принят", "результат", "answered", "status", "статус")),
    Field("phone", gettext_lazy("Телефон"),
          ("телефон", "номер телефона", "номер клиента", "phone", "number", "client phone")),
    Field("client_name", gettext_lazy("Клиент"),
          ("клиент", "контакт", "компания", "client", "customer", "contact"), max_length=200),
)  # fmt: skip

_AMOUNT = ("сумма", "amount", "sum")
_PAYER = ("контрагент", "плательщик", "покупатель", "клиент", "client", "customer", "payer")
_INN = ("инн", "инн контрагента", "инн плательщика", "inn", "tax id")

# 1C: a list of «Поступление на расчётный счёт» (Банк и касса → Банковские выписки), the
# bank's statement of incoming payment orders, «Анализ поступлений».
PAYMENT_FIELDS = (
    Field("external_id", gettext_lazy("Номер документа"),
          ("номер", "номер документа", "№", "№ документа", "номер п п", "вх номер", "id"),
          max_length=40),
    Field("paid_on", gettext_lazy("Дата оплаты"),
          ("дата", "дата документа", "дата оплаты", "дата поступления", "дата платежа", "date"),
          required=True),
    Field("amount", gettext_lazy("Сумма"),
          (*_AMOUNT, "поступление", "приход", "сумма поступления", "сумма документа",
           "сумма платежа", "поступило"), required=True),
    Field("payer_name", gettext_lazy("Плательщик"), _PAYER, max_length=255),
    Field("payer_inn", gettext_lazy("ИНН"), _INN),
    Field("contract", gettext_lazy("Договор"),
          ("договор", "договор контрагента", "договор с контрагентом", "contract"),
          max_length=255),
    Field("deal_ref", gettext_lazy("Номер сделки"),
          ("сделка", "номер сделки", "заказ", "заказ клиента", "счет на оплату", "deal"),
          max_length=100),
    Field("purpose", gettext_lazy("Назначение платежа"),
          ("назначение платежа", "назначение", "purpose")),
)  # fmt: skip

# 1C: «Оборотно-сальдовая ведомость по счету 62» by «Контрагенты» (and «Договоры»), or any
# list of what each client owes.
BALANCE_FIELDS = (
    Field("payer_name", gettext_lazy("Контрагент"),
          (*_PAYER, "счет", "контрагенты", "счет контрагенты", "контрагенты договоры"),
          required=True, max_length=255),
    Field("payer_inn", gettext_lazy("ИНН"), _INN),
    Field("debit", gettext_lazy("Сальдо на конец, дебет (долг клиента)"),
          ("сальдо на конец периода дебет", "конечное сальдо дебет", "сальдо конечное дебет",
           "дебет", "задолженность", "дебиторская задолженность", "долг", "сумма долга")),
    Field("credit", gettext_lazy("Сальдо на конец, кредит (аванс клиента)"),
          ("сальдо на конец периода кредит", "конечное сальдо кредит", "сальдо конечное кредит",
           "кредит", "аванс", "предоплата")),
    Field("as_of", gettext_lazy("На дату"),
          (onec.PERIOD_END_COLUMN.lower(), "на дату", "дата", "дата сальдо", "date")),
)  # fmt: skip

FIELDS = {
    ImportJob.Kind.DEALS: DEAL_FIELDS,
    ImportJob.Kind.CALLS: CALL_FIELDS,
    ImportJob.Kind.PAYMENTS: PAYMENT_FIELDS,
    ImportJob.Kind.BALANCES: BALANCE_FIELDS,
}
ONEC_KINDS = (ImportJob.Kind.PAYMENTS, ImportJob.Kind.BALANCES)

Mapping = dict[str, int]


def _key(text: str) -> str:
    text = text.lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w№]+", " ", text).split())


def mapping_guess(*, kind: str, headers: list[str]) -> Mapping:
    """Which column is which field, by its header: an exact name first, then a header that
    starts with a known name ("Сумма, руб." is the amount)."""
    fields = FIELDS[kind]
    keys = [_key(header) for header in headers]
    mapping: Mapping = {}
    taken: set[int] = set()

    def claim(test: Callable[[str, str], bool]) -> None:
        for f in fields:
            if f.name in mapping:
                continue
            for index, key in enumerate(keys):
                if index not in taken and any(test(key, alias) for alias in f.aliases):
                    mapping[f.name] = index
                    taken.add(index)
                    break

    claim(lambda key, alias: key == alias)
    claim(lambda key, alias: len(alias) > 2 and key.startswith(alias + " "))
    return mapping


def mapping_check(*, kind: str, headers: list[str], mapping: Mapping) -> Mapping:
    fields = {f.name: f for f in FIELDS[kind]}
    clean = {
        name: int(index)
        for name, index in mapping.items()
        if name in fields and 0 <= int(index) < len(headers)
    }
    missing = [str(f.label) for f in FIELDS[kind] if f.required and f.name not in clean]
    if missing:
        raise ValidationError(
            _("Укажите, в какой колонке: %(fields)s.") % {"fields": ", ".join(missing)}
        )
    return clean


def mapping_save(*, job: ImportJob, mapping: Mapping, headers: list[str]) -> ImportJob:
    if job.status != ImportJob.Status.MAPPING:
        raise ValidationError(_("Этот импорт уже запущен."))
    job.mapping = mapping_check(kind=job.kind, headers=headers, mapping=mapping)
    job.save(update_fields=["mapping"])
    return job


# --- Reading a row's values ---------------------------------------------------------------


@dataclass
class Lookups:
    """What a row's manager and stage are matched against, read once per file."""

    zone: zoneinfo.ZoneInfo
    managers: dict[str, User | None]
    stages: dict[str, PipelineStage]
    stage_names: list[str]


def lookups_load(*, company: Company) -> Lookups:
    managers: dict[str, User | None] = {}
    for user in User.objects.filter(company=company, role=User.Role.MANAGER):
        names = {
            user.username,
            user.get_full_name(),
            f"{user.last_name} {user.first_name}",
        }
        for name in filter(None, map(_key, names)):
            # Two managers of one name: the name says nothing, a login or e-mail will.
            managers[name] = None if managers.get(name, user) != user else user
        if user.email:
            managers[user.email.lower()] = user
        managers[user.username.lower()] = user
    stages = list(PipelineStage.objects.filter(company=company))
    return Lookups(
        zone=company.zone,
        managers=managers,
        stages={_key(stage.name): stage for stage in stages},
        stage_names=[stage.name for stage in stages],
    )


_DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)


def parse_moment(value: Cell, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """A date cell of Excel, ДД.ММ.ГГГГ [ЧЧ:ММ[:СС]] or ISO; without a zone, the company's."""
    moment = None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time.min)
    elif isinstance(value, str):
        text = " ".join(value.split())
        for pattern in _DATE_FORMATS:
            try:
                moment = datetime.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            with contextlib.suppress(ValueError):
                moment = datetime.datetime.fromisoformat(text)
    if moment is None or not 1990 <= moment.year <= 2100:
        raise ValidationError(
            _("Не понимаю дату «%(text)s»: напишите ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ.")
            % {"text": echo(_text(value))}
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_amount(value: Cell) -> Decimal:
    """A deal's sum: money, held to the bounds of money (kopecks, the ceiling)."""
    if isinstance(value, bool | datetime.date | datetime.time):
        raise ValidationError(_("«%(text)s» — не сумма.") % {"text": echo(_text(value))})
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise ValidationError(_("«%(text)s» — не сумма.") % {"text": echo(_text(value))})
        # A spreadsheet keeps money as a binary fraction: to the kopeck, once it is in bounds.
        return ceiling_check(amount, KPI.Unit.MONEY).quantize(Decimal("0.01"))
    amount = parse_number(str(value))
    if amount < 0:
        raise ValidationError(_("Сумма не может быть отрицательной."))
    return value_check(amount, KPI.Unit.MONEY)


_CLOCK = re.compile(r"^(?:(\d{1,6}):)?(\d{1,6}):([0-5]\d)$")


def parse_seconds(value: Cell) -> int:
    """Seconds (75), мм:сс (1:15), ч:мм:сс (1:01:15), or an Excel time cell."""
    if isinstance(value, datetime.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, datetime.timedelta):
        seconds = int(value.total_seconds())
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if not math.isfinite(value) or abs(value) > MAX_CALL_SECONDS:
            raise ValidationError(_("Звонок не может длиться больше 24 часов."))
        seconds = round(value)
    else:
        text = _text(value).replace(",", ".")
        clock = _CLOCK.match(text)
        if clock:
            hours, minutes, secs = (int(part or 0) for part in clock.groups())
            seconds = hours * 3600 + minutes * 60 + secs
        elif re.fullmatch(r"-?\d{1,9}(?:\.\d{1,6})?", text):
            seconds = round(float(text))
        else:
            raise ValidationError(
                _(
                    "Не понимаю длительность «%(text)s»: напишите секунды (75), "
                    "мм:сс (1:15) или ч:мм:сс (1:01:15)."
                )
                % {"text": echo(_text(value))}
            )
    if seconds < 0:
        raise ValidationError(_("Длительность не может быть отрицательной."))
    if seconds > MAX_CALL_SECONDS:
        raise ValidationError(_("Звонок не может длиться больше 24 часов."))
    return seconds


_YES = {"да", "д", "yes", "y", "1", "true", "истина", "+", "повторная", "отвечен", "принят"}
_YES |= {"состоялся", "answered", "успешно"}
_NO = {"нет", "н", "no", "n", "0", "false", "ложь", "-", "пропущен", "не отвечен", "недозвон"}
_NO |= {"missed", "no answer", "не состоялся", "занято", "busy"}


def parse_flag(value: Cell) -> bool:
    text = _key(_text(value)) or _text(value)
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError(_("«%(text)s» — напишите «да» или «нет».") % {"text": echo(_text(value))})


_DIRECTIONS = {
    "in": ("вх", "входящий", "входящая", "входящие", "in", "incoming", "inbound"),
    "out": ("исх", "исходящий", "исходящая", "исходящие", "out", "outgoing", "outbound"),
}


def parse_direction(value: Cell) -> str:
    text = _key(_text(value))
    for direction, words in _DIRECTIONS.items():
        if text in words:
            return direction
    raise ValidationError(
        _("Направление «%(text)s» непонятно: напишите «входящий» или «исходящий».")
        % {"text": echo(_text(value))}
    )


def _manager(value: Cell, lookups: Lookups) -> User:
    text = _text(value)
    key = text.lower() if "@" in text else _key(text)
    if key not in lookups.managers:
        raise ValidationError(
            _("Менеджер «%(name)s» не найден: укажите логин, e-mail или имя менеджера компании.")
            % {"name": echo(text)}
        )
    user = lookups.managers[key]
    if user is None:
        raise ValidationError(
            _("Менеджеров с именем «%(name)s» несколько: укажите логин или e-mail.")
            % {"name": echo(text)}
        )
    return user


def _stage(value: Cell, lookups: Lookups) -> PipelineStage:
    text = _text(value)
    stage = lookups.stages.get(_key(text))
    if stage is None:
        raise ValidationError(
            _("Этапа «%(name)s» нет в воронке. Этапы: %(names)s.")
            % {"name": text, "names": ", ".join(lookups.stage_names)}
        )
    return stage


_PARSERS: dict[str, Callable[[Cell, Lookups], Any]] = {
    "manager": _manager,
    "stage": _stage,
    "created_at": lambda value, lookups: parse_moment(value, lookups.zone),
    "closed_at": lambda value, lookups: parse_moment(value, lookups.zone),
    "started_at": lambda value, lookups: parse_moment(value, lookups.zone),
    "expected_payment_on": lambda value, lookups: parse_moment(value, lookups.zone).date(),
    "paid_on": lambda value, lookups: parse_moment(value, lookups.zone).date(),
    "as_of": lambda value, lookups: parse_moment(value, lookups.zone).date(),
    "debit": lambda value, _lookups: parse_amount(value),
    "credit": lambda value, _lookups: parse_amount(value),
    "payer_inn": lambda value, _lookups: payments.inn_clean(_text(value)),
    "amount": lambda value, _lookups: parse_amount(value),
    "duration": lambda value, _lookups: parse_seconds(value),
    "is_repeat": lambda value, _lookups: parse_flag(value),
    "answered": lambda value, _lookups: parse_flag(value),
    "direction": lambda value, _lookups: parse_direction(value),
}


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)


def row_parse(
    *, kind: str, row: Row, headers: list[str], mapping: Mapping, lookups: Lookups
) -> ParsedRow:
    """A row's values by field, or what is wrong with it: nothing is written here."""
    parsed = ParsedRow(number=row.number, values={})

    def error(column: str, message: str) -> None:
        parsed.errors.append({"row": row.number, "column": column, "message": message})

    for f in FIELDS[kind]:
        index = mapping.get(f.name)
        value = row.cells[index] if index is not None else None
        if _blank(value):
            parsed.values[f.name] = None
            if f.required or (f.name == "external_id" and index is not None):
                error(headers[index] if index is not None else "", _("Пустое значение."))
            continue
        column = headers[index]  # type: ignore[index]
        try:
            if f.name in _PARSERS:
                parsed.values[f.name] = _PARSERS[f.name](value, lookups)
            else:
                parsed.values[f.name] = _text(value)
                if f.max_length and len(parsed.values[f.name]) > f.max_length:
                    raise ValidationError(
                        _("Слишком длинное значение: не больше %(max)s символов.")
                        % {"max": f.max_length}
                    )
        except ValidationError as refusal:
            error(column, refusal.messages[0])
    values = parsed.values
    closed, created = values.get("closed_at"), values.get("created_at")
    if kind == ImportJob.Kind.DEALS and closed and created and closed < created:
        error(headers[mapping["closed_at"]], _("Сделка не может закрыться раньше, чем создана."))
    if "external_id" not in mapping:
        content = "\x1f".join(
            f"{name}={_text(row.cells[index])}" for name, index in sorted(mapping.items())
        )
        values["external_id"] = "h" + hashlib.sha1(content.encode()).hexdigest()  # noqa: S324
    return parsed


def _payment_write(*, company: Company, kind: str, values: dict[str, Any]) -> Outcome:
    text = {name: values.get(name) or "" for name in ("payer_name", "payer_inn")}
    if kind == ImportJob.Kind.BALANCES:
        if values["debit"] is None and values["credit"] is None:
            raise ValidationError(_("Нет суммы: ни дебета, ни кредита на конец периода."))
        amount = (values["debit"] or Decimal(0)) - (values["credit"] or Decimal(0))
        # A report whose title gives no period: the balance is today's.
        as_of = values["as_of"] or company.today()
        balance = payments.BalanceData(as_of=as_of, amount=amount, **text)
        return payments.balance_upsert(company=company, source=PaymentSource.FILE, data=balance)[1]
    # 1C numbers its documents again each year: the number with its date is the payment.
    payment = payments.PaymentData(
        external_id=f"{values['external_id']}/{values['paid_on']:%Y-%m-%d}",
        paid_on=values["paid_on"],
        amount=values["amount"],
        contract=values["contract"] or "",
        deal_ref=values["deal_ref"] or "",
        purpose=values["purpose"] or "",
        **text,
    )
    return payments.payment_upsert(company=company, source=PaymentSource.FILE, data=payment)[1]


def _row_write(*, company: Company, kind: str, values: dict[str, Any]) -> Outcome:
    if kind in ONEC_KINDS:
        return _payment_write(company=company, kind=kind, values=values)
    if kind == ImportJob.Kind.DEALS:
        client = client_resolve(
            company=company,
            name=values["client_name"] or "",
            phone=values["client_phone"] or "",
            source=Source.FILE,
        )
        deal = DealData(
            external_id=values["external_id"],
            stage=values["stage"],
            created_at=values["created_at"],
            title=values["title"] or "",
            manager=values["manager"],
            client=client,
            channel=values["channel"] or "",
            amount=values["amount"] or Decimal(0),
            loss_reason=values["loss_reason"] or "",
            is_repeat=bool(values["is_repeat"]),
            closed_at=values["closed_at"],
            expected_payment_on=values["expected_payment_on"],
        )
        return deal_upsert(company=company, source=Source.FILE, data=deal)[1]
    phone = values["phone"] or ""
    client = client_resolve(
        company=company, name=values["client_name"] or "", phone=phone, source=Source.FILE
    )
    duration = values["duration"] or 0
    answered = values["answered"]
    call = CallData(
        external_id=values["external_id"],
        direction=values["direction"],
        started_at=values["started_at"],
        duration=duration,
        answered=duration > 0 if answered is None else answered,
        manager=values["manager"],
        client=client,
        phone=normalize_phone(phone),
    )
    return call_upsert(company=company, source=Source.FILE, data=call)[1]


# --- The job ------------------------------------------------------------------------------


def import_job_create(
    *, company: Company, created_by: User, kind: str, file: UploadedFile
) -> ImportJob:
    """Keep an uploaded file (refusing what cannot be imported) with a guessed mapping."""
    too_big = ValidationError({"file": _("Файл больше 10 МБ: разделите его на несколько частей.")})
    if file.size and file.size > MAX_FILE_BYTES:
        raise too_big
    name = PurePath(file.name or "").name
    content = file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise too_big
    try:
        table = table_read(file_name=name, content=content, kind=kind)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    return ImportJob.objects.create(
        company=company,
        kind=kind,
        file_name=name[:255],
        content=content,
        mapping=mapping_guess(kind=kind, headers=table.headers),
        total_rows=len(table.rows),
        created_by=created_by,
    )


def job_table(job: ImportJob) -> Table:
    return table_read(file_name=job.file_name, content=bytes(job.content), kind=job.kind)


@dataclass
class PreviewRow:
    number: int
    cells: list[str]
    errors: list[dict[str, Any]]


def _display(value: Cell) -> str:
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return format_date(value)
    return _text(value)


def preview(
    *, job: ImportJob, table: Table, mapping: Mapping, limit: int = PREVIEW_ROWS
) -> list[PreviewRow]:
    lookups = lookups_load(company=job.company)
    rows = []
    for row in table.rows[:limit]:
        parsed = row_parse(
            kind=job.kind, row=row, headers=table.headers, mapping=mapping, lookups=lookups
        )
        rows.append(PreviewRow(row.number, [_display(v) for v in row.cells], parsed.errors))
    return rows


def import_start(
    *, job: ImportJob, mapping: Mapping, headers: list[str], language: str
) -> ImportJob:
    """Run a small file now; queue a big one for the worker (its page shows the progress)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    mapping_save(job=job, mapping=mapping, headers=headers)
    return _launch(job, language)


def import_resume(*, job: ImportJob, language: str) -> ImportJob:
    """Go on with a stopped import from the row it stopped at."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.FAILED:
        raise ValidationError(_("Продолжить можно только остановленный импорт."))
    job.message = ""
    job.finished_at = None
    return _launch(job, language)


def _launch(job: ImportJob, language: str) -> ImportJob:
    if job.total_rows - job.processed_rows <= INLINE_ROWS:
        job.status = ImportJob.Status.RUNNING
        job.save()
        return import_run(company_id=job.company_id, job_id=job.pk)
    from crm_sync.import_tasks import import_job_run  # the task calls this module

    job.status = ImportJob.Status.QUEUED
    job.save()
    company_id, job_id = job.company_id, job.pk
    transaction.on_commit(lambda: import_job_run.delay(company_id, job_id, language))
    return job


def import_run(*, company_id: int, job_id: int) -> ImportJob:
    """Import the job's rows from where it stands, a chunk per transaction.

    Each chunk moves `processed_rows` in its own transaction, so the progress bar is exact
    and a crash loses at most the chunk it was in; a re-delivered task resumes there. An
    unexpected error stops the import: the rows before it stay, and the job says where it
    stopped (bad rows are no such error: they are reported and skipped).
    """
    with tenancy.tenant_context(company_id):
        job = ImportJob.objects.select_related("company").get(pk=job_id)
        if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
            return job
        company = job.company
        table = job_table(job)
        lookups = lookups_load(company=company)
    try:
        while True:
            with tenancy.tenant_context(company_id):
                job = ImportJob.objects.select_for_update().get(pk=job_id)
                if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
                    return job
                # The chunk's rows share manager days: their report figures are refreshed once.
                with figures_deferred(company=company):
                    failure = _chunk_run(job=job, company=company, table=table, lookups=lookups)
                if failure is None and job.processed_rows >= len(table.rows):
                    job.status = ImportJob.Status.DONE
                    job.finished_at = timezone.now()
                    job.message = _done_message(job)
                else:
                    job.status = ImportJob.Status.RUNNING
                job.save()
            if failure is not None:
                raise failure
            if job.status == ImportJob.Status.DONE:
                return job
    except Exception:
        logger.exception("import %s stopped", job_id)
        return _job_fail(company_id=company_id, job_id=job_id, table=table)


def _chunk_run(
    *, job: ImportJob, company: Company, table: Table, lookups: Lookups
) -> Exception | None:
    """Write the next chunk of rows into `job`'s counts; the error that stopped it, if any."""
    start = job.processed_rows
    for row in table.rows[start : start + CHUNK_ROWS]:
        parsed = row_parse(
            kind=job.kind, row=row, headers=table.headers, mapping=job.mapping, lookups=lookups
        )
        if not parsed.errors:
            try:
                # A savepoint per row: an unexpected error leaves the rows before it intact.
                with transaction.atomic():
                    outcome = _row_write(company=company, kind=job.kind, values=parsed.values)
            except ValidationError as refusal:
                parsed.errors = [
                    {"row": row.number, "column": "", "message": message}
                    for message in refusal.messages
                ]
            except Exception as error:
                return error
            else:
                setattr(job, f"{outcome}_count", getattr(job, f"{outcome}_count") + 1)
        if parsed.errors and len(job.errors) < MAX_ERRORS:
            job.errors = [*job.errors, *parsed.errors][:MAX_ERRORS]
        job.processed_rows += 1
    return None


def _done_message(job: ImportJob) -> str:
    if len(job.errors) >= MAX_ERRORS:
        return _("Ошибок слишком много: показаны первые %(count)s.") % {"count": MAX_ERRORS}
    return ""


def _job_fail(*, company_id: int, job_id: int, table: Table) -> ImportJob:
    """In a fresh transaction: the job failed at the first row it did not get through."""
    with tenancy.tenant_context(company_id):
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        stopped = table.rows[min(job.processed_rows, len(table.rows) - 1)].number
        job.status = ImportJob.Status.FAILED
        job.finished_at = timezone.now()
        job.message = _(
            "Импорт остановлен на строке %(row)s из-за внутренней ошибки. Строки до неё "
            "загружены; «Продолжить» начнёт с этой строки."
        ) % {"row": stopped}
        job.save()
    return job
