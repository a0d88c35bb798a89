"""The Django app config for `assetc.django`: registers the system check for the manifest."""

from django.apps import AppConfig


class AssetcConfig(AppConfig):
    name = "assetc.django"
    label = "assetc"
    verbose_name = "assetc"

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import setting_changed

        from . import reset
        from .checks import check_manifest

        checks.register(check_manifest, "assetc")

        def on_setting_changed(setting: str, **kwargs: object) -> None:
            if setting.startswith("ASSETC_") or setting == "STATIC_URL":
                reset()

        setting_changed.connect(on_setting_changed, weak=False, dispatch_uid="assetc-reset")
