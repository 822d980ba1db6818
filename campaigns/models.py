from django.conf import settings
from django.db import models


class Campaign(models.Model):
    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    objectives = models.JSONField(default=list, blank=True)
    platforms = models.JSONField(default=list, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    timeline_days = models.PositiveIntegerField(default=30)
    audience = models.TextField(blank=True)
    key_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.brand.slug} / {self.name}"
