"""The Django admin: a page per kind. Objects are edited as YAML and saved through the store,
so the admin obeys the same validation, defaulting and conflict rules as the API."""

import yaml
from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from cluster import kinds, store
from cluster.errors import ApiError, Invalid, StrictDecodingError
from cluster.models import ApiObject, Cluster, Event, Namespace, Node, Pod, SimClock


def as_yaml(obj):
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=100)


class ManifestForm(forms.ModelForm):
    """The object's manifest (without status) as YAML; status is shown, never edited."""

    manifest = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "cols": 100,
                                                            "style": "font-family: monospace"}))

    class Meta:
        model = ApiObject
        fields = ["cluster"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            body = {k: v for k, v in self.instance.body.items() if k != "status"}
            self.fields["manifest"].initial = as_yaml(body)
            self.fields["cluster"].disabled = True

    def clean_manifest(self):
        try:
            obj = yaml.safe_load(self.cleaned_data["manifest"])
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"not valid YAML: {exc}") from None
        if not isinstance(obj, dict):
            raise forms.ValidationError("the manifest must be one Kubernetes object (a map)")
        return obj

    def clean(self):
        cleaned = super().clean()
        obj, cluster = cleaned.get("manifest"), cleaned.get("cluster") or self.instance.cluster
        if obj is None or cluster is None:
            return cleaned
        try:
            if self.instance.pk:
                store.update(cluster, obj, dry_run=True)
            else:
                store.create(cluster, obj, dry_run=True)
        except (Invalid, StrictDecodingError) as exc:
            raise forms.ValidationError([exc.message] + [str(e) for e in exc.errors]) from None
        except ApiError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


class KindAdmin(admin.ModelAdmin):
    form = ManifestForm
    list_display = ("name", "namespace", "cluster", "phase", "node_name", "resource_version")
    list_filter = ("cluster", "namespace")
    search_fields = ("name",)
    readonly_fields = ("uid", "resource_version", "status_yaml")
    fields = ("cluster", "manifest", "uid", "resource_version", "status_yaml")
    ordering = ("cluster", "namespace", "name")

    @admin.display(description="status (read-only)")
    def status_yaml(self, obj):
        if not obj.pk:
            return "-"
        return format_html("<pre>{}</pre>", as_yaml(obj.status))

    def save_model(self, request, obj, form, change):
        manifest = form.cleaned_data["manifest"]
        cluster = form.cleaned_data.get("cluster") or obj.cluster
        try:
            if change:
                written = store.update(cluster, manifest)
            else:
                written = store.create(cluster, manifest)
        except ApiError as exc:
            # Checked in clean(); a write racing in between lands here.
            messages.error(request, exc.message)
            return
        obj.pk = ApiObject.objects.get(uid=written.object["metadata"]["uid"]).pk
        for warning in written.warnings:
            messages.warning(request, warning)

    def delete_model(self, request, obj):
        store.delete(obj.cluster, kinds.get(obj.kind, obj.group), obj.namespace, obj.name)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class EventAdmin(KindAdmin):
    list_display = ("name", "namespace", "cluster", "reason_text", "message_text")

    @admin.display(description="reason")
    def reason_text(self, obj):
        return obj.body.get("reason")

    @admin.display(description="message")
    def message_text(self, obj):
        return obj.body.get("message")


for proxy in (Pod, Node, Namespace):
    admin.site.register(proxy, KindAdmin)
admin.site.register(Event, EventAdmin)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "initial_nodes", "created", "lease_holder", "lease_until")
    readonly_fields = ("compacted_rv", "lease_holder", "lease_until")


@admin.register(SimClock)
class SimClockAdmin(admin.ModelAdmin):
    list_display = ("cluster", "now", "paused", "speed")
    readonly_fields = ("now", "resource_version", "pending_step")

    def save_model(self, request, obj, form, change):
        # Through the store, like every other write.
        kind = kinds.get("Clock", "kubelab.io")
        try:
            store.update(obj.cluster, {"apiVersion": kind.api_version, "kind": kind.kind,
                                       "metadata": {"name": "cluster"},
                                       "spec": {"paused": obj.paused, "speed": obj.speed}})
        except ApiError as exc:
            messages.error(request, exc.message)
