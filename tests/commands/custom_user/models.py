"""A site's own user model whose email field is not called ``email``."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models


class Member(AbstractBaseUser):
    handle = models.CharField(max_length=50, unique=True)
    contact_email = models.EmailField(blank=True)

    USERNAME_FIELD = "handle"
    EMAIL_FIELD = "contact_email"

    objects = BaseUserManager()
