from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import get_for_admin
from accounts.permissions import require_configure
from accounts.views import call_service, submitted
from crm_sync import services
from crm_sync.forms import StageForm
from crm_sync.models import PipelineStage


@login_required
@require_http_methods(["GET", "POST"])
def stages(request: HttpRequest) -> HttpResponse:
    """The company's pipeline, in order; won and lost stages close a deal."""
    require_configure(request.user)
    company = request.user.company
    stages = list(PipelineStage.objects.filter(company=company))
    next_position = max((s.position for s in stages), default=-1) + 1
    form = StageForm(request.POST or None, initial={"position": next_position})
    if submitted(request, form) and call_service(form, services.stage_save, company=company):
        messages.success(request, _("Этап добавлен."))
        return redirect("stages")
    return render(request, "crm_sync/stages.html", {"form": form, "stages": stages})


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, code: str) -> HttpResponse:
    stage = get_for_admin(PipelineStage, actor=request.user, code=code)
    initial = {f: getattr(stage, f) for f in ("name", "kind", "position", "external_id")}
    form = StageForm(request.POST or None, initial=initial)
    if submitted(request, form) and call_service(
        form, services.stage_save, company=request.user.company, stage=stage
    ):
        messages.success(request, _("Этап сохранён."))
        return redirect("stages")
    return render(request, "crm_sync/stage_form.html", {"form": form, "stage": stage})


@login_required
@require_POST
def stage_delete(request: HttpRequest, code: str) -> HttpResponse:
    stage = get_for_admin(PipelineStage, actor=request.user, code=code)
    try:
        services.stage_delete(stage=stage)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Этап «%(name)s» удалён.") % {"name": stage.name})
    return redirect("stages")
