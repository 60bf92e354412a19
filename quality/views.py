import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_admin
from accounts.models import User
from accounts.permissions import may_score, require_configure, require_score
from accounts.views import call_service, submitted
from kpi.periods import month_end, month_start, shift_months
from quality import access, selectors, services
from quality.forms import CallTypeForm, ChecklistItemForm, ScoreForm, SettingsForm
from quality.models import CallType, ChecklistItem


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    # Only a path: redirect() would take any other word for a URL name and fail to reverse it.
    return target if allowed and target.startswith("/") else ""


def _day(request: HttpRequest, today: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return today


def _month(request: HttpRequest, today: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        return month_start(today)


def _month_links(month: datetime.date) -> dict[str, datetime.date]:
    return {
        "month": month,
        "previous_month": shift_months(month, -1),
        "next_month": shift_months(month, 1),
    }


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The quality controller's day: one call of each type per manager to score."""
    require_score(request.user)
    company = request.user.company
    today = company.today()
    day = _day(request, today)
    context = {
        "queue": selectors.daily_queue(company=company, viewer=request.user, day=day),
        "today": today,
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
    }
    return render(request, "quality/queue.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def score_call(request: HttpRequest, code: str) -> HttpResponse:
    """Scores one call against the checklist of the chosen call type."""
    call = access.call_get_for_scorer(actor=request.user, code=code)
    company = request.user.company
    call_types = selectors.call_types_with_items(company=company, active_only=True)
    type_code = request.POST.get("type") or request.GET.get("type")
    if not type_code:
        context = {"call": call, "call_types": call_types}
        return render(request, "quality/score_type.html", context)
    call_type = access.call_type_get(actor=request.user, code=type_code)
    mine = call.scores.filter(call_type=call_type, controller=request.user).first()
    initial = {}
    if mine is not None:
        done = mine.marks.filter(done=True).values_list("item_id", flat=True)
        initial = {"done": [str(pk) for pk in done], "comment": mine.comment}
    form = ScoreForm(request.POST or None, call_type=call_type, initial=initial)
    if submitted(request, form):
        try:
            score = services.call_score_save(
                company=company, call=call, call_type=call_type, controller=request.user,
                done_items=form.done_items(), comment=form.cleaned_data["comment"],
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Звонок оценён: %(score)s %%.") % {"score": f"{score.score:.0f}"}
            )
            return redirect(_safe_next(request) or "quality-queue")
    others = call.scores.filter(call_type=call_type).exclude(controller=request.user).count()
    context = {
        "call": call,
        "call_type": call_type,
        "form": form,
        "mine": mine,
        "others": others,
        "next": _safe_next(request),
    }
    return render(request, "quality/score_form.html", context, status=422 if form.errors else 200)


@login_required
@require_GET
def score_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One score with its checklist: the manager reads what to improve."""
    score = access.score_get_for_viewer(actor=request.user, code=code)
    context = {
        "score": score,
        "marks": selectors.marks_of(score),
        "band": selectors.quality_band(company=request.user.company, score=score.score),
        "can_score": may_score(request.user),
        # Second opinions are shown to scorers only once they have given their own.
        "others": selectors.other_scores_of_call(score) if may_score(request.user) else [],
    }
    return render(request, "quality/score_detail.html", context)


@login_required
@require_GET
def scores(request: HttpRequest) -> HttpResponse:
    """A month of scores with each manager's average and its effect on the soft salary.

    A manager sees their own; a head of sales their teams'; controllers and admins all.
    """
    user: User = request.user
    company = user.company
    month = _month(request, company.today())
    if may_score(user):
        managers = list(selectors.managers_to_check(company=company, viewer=user))
    elif user.is_manager:
        managers = [user]
    else:
        raise PermissionDenied
    manager = None
    manager_code = request.GET.get("manager", "")
    if manager_code and len(managers) > 1:
        manager = next((m for m in managers if str(m.code) == manager_code), None)
    month_scores = list(
        selectors.scores_of_month(company=company, viewer=user, month=month, manager=manager)
    )
    for score in month_scores:
        score.band = selectors.quality_band(company=company, score=score.score)
    quality = selectors.month_quality(
        company=company, manager_ids=[m.pk for m in managers], month=month
    )
    context = {
        **_month_links(month),
        "rows": [(m, quality[m.pk]) for m in managers],
        "scores": month_scores,
        "managers": managers,
        "selected": manager,
        "own": user.is_manager,
        "soft_share": selectors.settings_of(company=company).soft_salary_share,
    }
    return render(request, "quality/scores.html", context)


@login_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    """Does quality move results? Conversion per checklist point; how far controllers differ."""
    require_score(request.user)
    company = request.user.company
    month = _month(request, company.today())
    start, end = shift_months(month, -2), month_end(month)
    period = {"company": company, "viewer": request.user, "start": start, "end": end}
    context = {
        **_month_links(month),
        "start": start,
        "end": end,
        "effects": selectors.item_effects(**period),
        "disagreements": selectors.controller_disagreements(**period),
        "min_calls": selectors.MIN_EFFECT_CALLS,
    }
    return render(request, "quality/analysis.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def checklists(request: HttpRequest) -> HttpResponse:
    """The admin's checklists per call type, and the company's quality rules."""
    require_configure(request.user)
    company = request.user.company
    rules = selectors.settings_of(company=company)
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form")
    type_form = CallTypeForm(posted if which == "type" else None)
    settings_form = SettingsForm(
        posted if which == "settings" else None,
        initial={"soft_salary_share": rules.soft_salary_share, "days_back": rules.days_back},
    )
    if (
        which == "type"
        and submitted(request, type_form)
        and call_service(type_form, services.call_type_save, company=company)
    ):
        messages.success(request, _("Тип звонка добавлен: теперь добавьте пункты чек-листа."))
        return redirect("quality-checklists")
    if which == "settings" and submitted(request, settings_form):
        services.settings_save(company=company, **settings_form.cleaned_data)
        messages.success(request, _("Правила контроля качества сохранены."))
        return redirect("quality-checklists")
    context = {
        "call_types": selectors.call_types_with_items(company=company),
        "type_form": type_form,
        "settings_form": settings_form,
    }
    failed = type_form.errors or settings_form.errors
    return render(request, "quality/checklists.html", context, status=422 if failed else 200)


@login_required
@require_http_methods(["GET", "POST"])
def call_type_edit(request: HttpRequest, code: str) -> HttpResponse:
    call_type = get_for_admin(CallType, actor=request.user, code=code)
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("form")
    initial = {"name": call_type.name, "position": call_type.position, "active": call_type.active}
    # Both forms have a «Порядок»: ids of their own, so that each label names its own field.
    type_form = CallTypeForm(
        posted if which == "type" else None, initial=initial, auto_id="type_%s"
    )
    items = list(call_type.items.filter(active=True))
    next_position = max((i.position for i in items), default=-1) + 1
    item_form = ChecklistItemForm(
        posted if which == "item" else None, initial={"position": next_position}, auto_id="item_%s"
    )
    if (
        which == "type"
        and submitted(request, type_form)
        and call_service(
            type_form, services.call_type_save, company=request.user.company, call_type=call_type
        )
    ):
        messages.success(request, _("Тип звонка сохранён."))
        return redirect("quality-call-type", code=call_type.code)
    if which == "item" and submitted(request, item_form):
        services.checklist_item_save(call_type=call_type, **item_form.cleaned_data)
        messages.success(request, _("Пункт добавлен."))
        return redirect("quality-call-type", code=call_type.code)
    context = {"call_type": call_type, "items": items, "type_form": type_form}
    context["item_form"] = item_form
    failed = type_form.errors or item_form.errors
    return render(request, "quality/call_type.html", context, status=422 if failed else 200)


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, code: str) -> HttpResponse:
    item = get_for_admin(ChecklistItem, actor=request.user, code=code, active=True)
    initial = {"text": item.text, "weight": item.weight, "position": item.position}
    form = ChecklistItemForm(request.POST or None, initial=initial)
    if submitted(request, form):
        services.checklist_item_save(call_type=item.call_type, item=item, **form.cleaned_data)
        messages.success(request, _("Пункт сохранён. Новый вес действует для новых оценок."))
        return redirect("quality-call-type", code=item.call_type.code)
    context = {"item": item, "form": form}
    return render(request, "quality/item_form.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def item_remove(request: HttpRequest, code: str) -> HttpResponse:
    item = get_for_admin(ChecklistItem, actor=request.user, code=code, active=True)
    services.checklist_item_remove(item=item)
    messages.success(request, _("Пункт «%(text)s» убран из чек-листа.") % {"text": item})
    return redirect("quality-call-type", code=item.call_type.code)
