"""Column layouts of the form-lead channels, mapped onto one canonical lead schema.

Every channel exports its own CSV header (docs/landing-zone.md). A header is matched by its
*key*: lower-cased with everything but letters and digits removed, so ``Email Address``,
``email_address`` and ``E-mail Address`` are one key. Each canonical field lists the keys
that feed it; the first one present in a file wins. Columns that feed no field are kept in
the raw record and reported, never dropped.
"""

from __future__ import annotations

import re

# canonical field -> header keys that carry it, in order of preference
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "source_record_id": ("leadid", "id", "submissionid", "registrantid", "referralid"),
    "submitted_at": ("submittedat", "createdtime", "submittedon", "registrationtime", "date"),
    "campaign": ("campaign", "campaignname", "utmcampaign", "webinar", "adname"),
    "full_name": ("fullname", "name"),
    "first_name": ("firstname",),
    "last_name": ("lastname",),
    "email": ("email", "emailaddress", "useremail", "workemail"),
    "phone": ("phone", "phonenumber", "userphone", "mobile"),
    "company": ("companyname", "company", "organization", "organisation"),
    "job_title": ("jobtitle", "title"),
    "website": ("website", "companywebsite"),
    "postal_code": ("postalcode", "zip", "zipcode", "postcode"),
    "city": ("city",),
    "country": ("country", "countryregion"),
    "service_needed": ("serviceneeded", "service", "whatserviceareyouinterestedin", "whichservicedoyouneed"),
    "budget": ("budget", "monthlybudget"),
    "timeline": ("timeline",),
    "company_size": ("companysize", "employees"),
    "industry": ("industry",),
    "anonymous_id": ("anonymousid",),
    "referred_by": ("referredby",),
}

# A file whose header has none of a required field's keys is rejected whole.
REQUIRED_FIELDS = ("source_record_id", "submitted_at")
# Each row needs at least one way to reach the person.
CONTACT_FIELDS = ("email", "phone")

CHANNELS = ("google_ads", "meta_lead_ads", "linkedin", "website", "webinar", "referral")

# Each channel's submit-time format (docs/landing-zone.md). A file in another format is
# rejected row by row as "unparseable timestamp", which is how a layout change shows up.
TIME_FORMATS: dict[str, tuple[str, ...]] = {
    "google_ads": ("%Y-%m-%d %H:%M:%S",),
    "meta_lead_ads": ("%Y-%m-%dT%H:%M:%S%.f%z",),
    "linkedin": ("%m/%d/%Y %H:%M",),
    "website": ("%Y-%m-%dT%H:%M:%S%.f%z",),
    "webinar": ("%Y-%m-%d %H:%M:%S UTC",),
    "referral": ("%Y-%m-%d",),
}


def header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def map_header(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return ``{canonical field: column}`` and the columns that feed no field."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(header_key(col), col)
    mapping: dict[str, str] = {}
    for field, keys in FIELD_KEYS.items():
        for key in keys:
            if key in by_key:
                mapping[field] = by_key[key]
                break
    used = set(mapping.values())
    return mapping, [c for c in columns if c not in used]


def channel_of(file_name: str) -> str | None:
    """``meta_lead_ads-2026-06-01.csv`` -> ``meta_lead_ads``."""
    for channel in sorted(CHANNELS, key=len, reverse=True):
        if file_name.startswith(channel + "-") or file_name.startswith(channel + "_"):
            return channel
    return None
