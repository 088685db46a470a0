import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from api.core import clock
from api.users import aadhaar


class UserManager(BaseUserManager):
    def get_by_natural_key(self, email):
        # Emails are stored lower-cased, so every login path (API, admin) matches any case.
        return self.get(email=email.strip().lower())

    def create_user(self, email, password=None, **fields):
        user = self.model(email=email.strip().lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A wallet holder. The email is stored lower-cased, so lookups are case-insensitive.

    The Aadhaar number is never stored in clear: `aadhaar_ciphertext` is AES-256-GCM under the
    key named by `aadhaar_key_id`, `aadhaar_index` an HMAC blind index that makes it unique,
    and `aadhaar_last4` what the masked form shows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=16, blank=True, default="")
    aadhaar_ciphertext = models.CharField(max_length=128, editable=False)
    aadhaar_key_id = models.CharField(max_length=32, editable=False)
    aadhaar_index = models.CharField(max_length=64, unique=True, editable=False)
    aadhaar_last4 = models.CharField(max_length=4, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_lower"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def aadhaar_masked(self) -> str:
        return aadhaar.masked(self.aadhaar_last4)


class AadhaarRevealAudit(models.Model):
    """One row per reveal attempt, successful or not."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="aadhaar_reveals")
    succeeded = models.BooleanField()
    ip_address = models.GenericIPAddressField(null=True)
    request_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reveal by {self.user_id} at {self.created_at}"
