"""Importing deals and calls from a file: upload, mapping with a preview, progress, result."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.permissions import require_lead
from accounts.views import call_service, submitted
from crm_sync import imports
from crm_sync.models import ImportJob

# The error table of a finished import shows this many rows; the rest are counted.
SHOWN_ERRORS = 500


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Что загружаем"),
        choices=ImportJob.Kind.choices,
        widget=forms.RadioSelect,
        initial=ImportJob.Kind.DEALS,
    )
    file = forms.FileField(
        label=gettext_lazy("Файл CSV или Excel (XLSX, XLS)"),
        help_text=gettext_lazy("До 10 МБ. Первая строка — заголовки колонок."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.xls"}),
    )


class MappingForm(forms.Form):
    """One select per column of the file: which field it holds, or none."""

    def __init__(self, *args: object, kind: str, headers: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [("", _("— не загружать —"))] + [
            (f.name, f"{f.label} *" if f.required else f.label) for f in imports.FIELDS[kind]
        ]
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )

    @classmethod
    def initial_of(cls, mapping: imports.Mapping) -> dict[str, str]:
        return {f"column_{index}": name for name, index in mapping.items()}

    def clean(self) -> dict:
        data = super().clean() or {}
        seen: dict[str, str] = {}
        for name, field_name in data.items():
            if field_name and field_name in seen:
                label = dict(self.fields[name].choices)[field_name]  # type: ignore[attr-defined]
                raise ValidationError(
                    _("Поле «%(field)s» выбрано для двух колонок: «%(a)s» и «%(b)s».")
                    % {
                        "field": str(label).rstrip(" *"),
                        "a": self.fields[seen[field_name]].label,
                        "b": self.fields[name].label,
                    }
                )
            seen[field_name] = name
        return data

    def mapping(self) -> imports.Mapping:
        return {
            field_name: int(name.removeprefix("column_"))
            for name, field_name in self.cleaned_data.items()
            if field_name
        }


def _job_for(request: HttpRequest, code: str) -> ImportJob:
    """The user's company's import (404 otherwise), for admins and heads of sales (403)."""
    user: User = request.user  # type: ignore[assignment]
    job = get_object_or_404(
        ImportJob.objects.filter(company_id=user.company_id).defer("content"), code=code
    )
    require_lead(user)
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    require_lead(request.user)
    company = request.user.company
    form = UploadForm(request.POST or None, request.FILES or None)
    if submitted(request, form):
        job = call_service(
            form, imports.import_job_create, company=company, created_by=request.user
        )
        if job is not None:
            return redirect("import-mapping", code=job.code)
    jobs = ImportJob.objects.filter(company=company).defer("content").select_related("created_by")
    context = {"form": form, "jobs": jobs[:20], "max_rows": imports.INLINE_ROWS}
    return render(request, "crm_sync/import_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, code: str) -> HttpResponse:
    """Which column is which field, with the first rows as they would be imported.

    A change of a select re-renders the preview (HTMX); "start" runs the import.
    """
    job = _job_for(request, code)
    if job.status != ImportJob.Status.MAPPING:
        return redirect("import-job", code=job.code)
    try:
        table = imports.job_table(job)
    except ValidationError as error:
        # A stored file that no longer reads (saved before a rule of the reader changed, or
        # restored from a backup) says why and goes back to the uploads, not a 500.
        messages.error(request, " ".join(error.messages))
        return redirect("import-list")
    form = MappingForm(
        request.POST or None,
        kind=job.kind,
        headers=table.headers,
        initial=MappingForm.initial_of(job.mapping),
    )
    mapping = job.mapping
    if submitted(request, form):
        mapping = form.mapping()
        try:
            if request.POST.get("action") == "start":
                job = imports.import_start(
                    job=job, mapping=mapping, headers=table.headers, language=get_language()
                )
                return redirect("import-job", code=job.code)
            imports.mapping_save(job=job, mapping=mapping, headers=table.headers)
        except ValidationError as error:
            form.add_error(None, error)
    context = {
        "job": job,
        "form": form,
        "headers": table.headers,
        "rows": imports.preview(job=job, table=table, mapping=mapping),
        "has_id": "external_id" in mapping,
    }
    template = "crm_sync/import_mapping.html"
    if request.htmx:
        return render(request, f"{template}#mapping", context, status=422 if form.errors else 200)
    return render(request, template, context)


@login_required
@require_GET
def import_job(request: HttpRequest, code: str) -> HttpResponse:
    """The import's progress (polled while it runs) and then its result."""
    job = _job_for(request, code)
    if job.status == ImportJob.Status.MAPPING:
        return redirect("import-mapping", code=job.code)
    context = {
        "job": job,
        "running": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        "skipped": job.processed_rows - job.created_count - job.updated_count - job.unchanged_count,
        "left": job.total_rows - job.processed_rows,
        "errors": job.errors[:SHOWN_ERRORS],
        "more_errors": max(len(job.errors) - SHOWN_ERRORS, 0),
        "percent": round(100 * job.processed_rows / job.total_rows) if job.total_rows else 100,
    }
    template = "crm_sync/import_job.html"
    return render(request, f"{template}#progress" if request.htmx else template, context)


@login_required
@require_POST
def import_resume(request: HttpRequest, code: str) -> HttpResponse:
    job = _job_for(request, code)
    try:
        imports.import_resume(job=job, language=get_language())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("import-job", code=job.code)
