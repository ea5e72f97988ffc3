from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "状态数据审核"
    default_auto_field = "django.db.models.BigAutoField"
